import { expect } from 'chai';
import { DeadLetteredError } from '../../src/errors.js';
import { restErrorOf } from '../../src/http/rest-errors.js';

const INTERNAL = 'Error: connect ECONNREFUSED 10.0.0.7:5432';

describe('REST error body', () => {
  it("shows a dead command's last error to admins only", () => {
    const dead = new DeadLetteredError('c-1', 3, INTERNAL);
    const asUser = restErrorOf(dead, 'corr-1');
    expect(JSON.stringify(asUser)).to.not.include('ECONNREFUSED');
    expect(asUser).to.include({
      errorCode: 'COMMAND_DEAD_LETTERED',
      commandId: 'c-1',
      attempts: 3,
    });
    const asAdmin = restErrorOf(dead, 'corr-1', { isAdmin: true });
    expect(asAdmin).to.include({ lastError: INTERNAL });
  });
});
