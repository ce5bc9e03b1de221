import { expect } from 'chai';
import { Admission, type AdmissionTicket } from '../../src/index.js';

describe('SSE admission (SSE_MAX_CONNECTIONS, SSE_MAX_CONNECTIONS_PER_USER)', () => {
  it('admits up to the per-user limit, then others up to the instance limit; a release frees one slot once', () => {
    const admission = new Admission({ maxConnections: 5, maxPerUser: 3 });
    const outcomes = Array.from({ length: 4 }, () => admission.admit('ash'));
    expect(outcomes.map((o) => (typeof o === 'string' ? o : 'admitted'))).to.deep.equal([
      'admitted',
      'admitted',
      'admitted',
      'SSE_MAX_CONNECTIONS_PER_USER',
    ]);
    expect(typeof admission.admit('misty')).to.equal('object');
    expect(typeof admission.admit('brock')).to.equal('object');
    expect(admission.admit('oak'), 'the instance is full').to.equal('SSE_MAX_CONNECTIONS');
    const first = outcomes[0] as AdmissionTicket;
    first.release();
    first.release(); // idempotent: a session may end by several paths
    expect(admission.size).to.equal(4);
    expect(admission.of('ash')).to.equal(2);
    expect(typeof admission.admit('oak'), 'the freed slot').to.equal('object');
    expect(admission.admit('oak')).to.equal('SSE_MAX_CONNECTIONS');
  });
});
