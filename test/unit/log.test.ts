import { expect } from 'chai';
import { redactText } from '../../src/log.js';

describe('log redaction', () => {
  it('removes tokens from URLs and passwords from Redis URLs', () => {
    expect(redactText('GET /events?topics=a&access_token=eyJhbGci.x.y&x=1')).to.equal(
      'GET /events?topics=a&access_token=[redacted]&x=1',
    );
    expect(redactText('redis://default:hunter2@10.0.0.1:6379/0')).to.equal(
      'redis://[redacted]@10.0.0.1:6379/0',
    );
    expect(redactText('nothing secret here')).to.equal('nothing secret here');
  });
});
