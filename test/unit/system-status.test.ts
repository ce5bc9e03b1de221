import { expect } from 'chai';
import { silentLogger } from '../../src/log.js';
import type { Caller, RpcContext } from '../../src/rpc/index.js';
import type { RpcServices } from '../../src/rpc/methods/services.js';
import { systemMethods } from '../../src/rpc/methods/system.js';

const presence = [
  { serverId: 'a', sessions: 3, users: ['u1', 'u2'] },
  { serverId: 'b', sessions: 1, users: ['u3'] },
];

/** Just what system.status reads. */
const services = {
  serverId: 'a',
  storeName: 'memory',
  redisStatus: () => undefined,
  backlog: async () => ({ pending: 0, lag: 0, dead: 0 }),
  readModels: { status: async () => [] },
  realtime: { status: () => ({ sessions: 3, connectedUsers: 2 }), presence: async () => presence },
} as unknown as RpcServices;

const [status] = systemMethods(services);

function contextOf(isAdmin: boolean): RpcContext {
  const user: Caller = { userId: 'ash', groups: [], roles: isAdmin ? ['admin'] : [], isAdmin };
  return { user, correlationId: 'c-1', logger: silentLogger };
}

describe('system.status', () => {
  it('shows users per instance as counts, and the user ids to admins only', async () => {
    const asUser = (await status!.handler({}, contextOf(false))) as { presence: unknown };
    expect(asUser.presence).to.deep.equal([
      { serverId: 'a', sessions: 3, connectedUsers: 2 },
      { serverId: 'b', sessions: 1, connectedUsers: 1 },
    ]);
    const asAdmin = (await status!.handler({}, contextOf(true))) as { presence: unknown };
    expect(asAdmin.presence).to.deep.equal([
      { serverId: 'a', sessions: 3, connectedUsers: 2, users: ['u1', 'u2'] },
      { serverId: 'b', sessions: 1, connectedUsers: 1, users: ['u3'] },
    ]);
  });
});
