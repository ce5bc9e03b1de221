import { expect } from 'chai';
import type { DeadLetter } from '../../src/commands/command-bus.js';
import { silentLogger } from '../../src/log.js';
import type { Caller, RpcContext, RpcMethod } from '../../src/rpc/index.js';
import { rpcMethods } from '../../src/rpc/methods/index.js';
import { operatorMethods } from '../../src/rpc/methods/operator.js';
import type { RpcServices } from '../../src/rpc/methods/services.js';

/** 120 dead letters, newest first, as a bus keeps them. */
const DEAD: DeadLetter[] = Array.from({ length: 120 }, (_, i) => ({
  command: {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: 'MoveTrainer',
    data: { secret: 'never shown' },
    metadata: {
      commandId: `c${i}`,
      userId: `u${i % 3}`,
      correlationId: 'x',
      timestamp: '2026-12-03T12:00:00.000Z',
      streamId: `trainer-u${i % 3}`,
    },
  },
  error: `boom ${i}`,
  attempts: 3,
  at: new Date(Date.UTC(2026, 11, 3, 12, 0, 120 - i)).toISOString(),
}));

/** Just what the operator methods read: the registry, presence, backlog, projections, dead letters. */
const services = {
  serverId: 'b',
  instances: async () => [
    { serverId: 'a', info: { host: 'h1', pid: 11, port: 8081, startedAt: 't1' } },
    { serverId: 'b', info: { host: 'h2', pid: 22, port: 8082, startedAt: 't2' } },
    { serverId: 'c', info: undefined },
  ],
  realtime: {
    status: () => ({ sessions: 1, connectedUsers: 1 }),
    presence: async () => [
      { serverId: 'a', sessions: 3, users: ['misty', 'ash'] },
      { serverId: 'b', sessions: 1, users: ['brock'] },
    ],
  },
  backlog: async () => ({ pending: 2, lag: 5, dead: 120 }),
  readModels: {
    status: async () => [
      { name: 'trainer-positions', position: '1-0', lagEvents: 4, leader: 'a' },
      { name: 'deployments', position: '0-0', lagEvents: 0 },
    ],
  },
  bus: { deadLetters: async (limit = 100) => DEAD.slice(0, limit) },
} as unknown as RpcServices;

const [instances, deadLetters] = operatorMethods(services) as [RpcMethod, RpcMethod];
const admin: Caller = { userId: 'oak', groups: [], roles: ['admin'], isAdmin: true };
const ctx: RpcContext = { user: admin, correlationId: 'c-1', logger: silentLogger };

describe('system.instances and command.deadLetters', () => {
  it('are admin only and documented in rpc.discover', () => {
    expect(instances.auth).to.equal('admin');
    expect(deadLetters.auth).to.equal('admin');
    const names = rpcMethods(services, '0.0.0').map((m) => m.name);
    expect(names).to.include.members(['system.instances', 'command.deadLetters', 'system.status']);
  });

  it('system.instances lists every live instance with its sessions and users, the backlog and projections', async () => {
    const answer = (await instances.handler({}, ctx)) as Record<string, unknown>;
    expect(answer.instances).to.deep.equal([
      {
        serverId: 'a',
        self: false,
        host: 'h1',
        pid: 11,
        port: 8081,
        startedAt: 't1',
        sessions: 3,
        connectedUsers: 2,
        users: ['ash', 'misty'],
      },
      {
        serverId: 'b',
        self: true,
        host: 'h2',
        pid: 22,
        port: 8082,
        startedAt: 't2',
        sessions: 1,
        connectedUsers: 1,
        users: ['brock'],
      },
      { serverId: 'c', self: false, sessions: 0, connectedUsers: 0, users: [] },
    ]);
    expect(answer.commands).to.deep.equal({ backlog: 7, lag: 5, pending: 2, dead: 120 });
    expect(answer.projections).to.deep.equal([
      { name: 'trainer-positions', position: '1-0', lagEvents: 4, leader: 'a' },
      { name: 'deployments', position: '0-0', lagEvents: 0 },
    ]);
  });

  it('command.deadLetters pages newest first without the commands’ data, to the end', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const params = deadLetters.params.parse({ limit: 50, ...(cursor ? { cursor } : {}) });
      const page = (await deadLetters.handler(params, ctx)) as {
        deadLetters: Record<string, unknown>[];
        nextCursor: string | null;
      };
      pages += 1;
      seen.push(...page.deadLetters.map((d) => String(d.commandId)));
      if (pages === 1) {
        expect(page.deadLetters[0]).to.deep.equal({
          commandId: DEAD[0]!.command.id,
          userId: 'u0',
          type: 'MoveTrainer',
          streamId: 'trainer-u0',
          error: 'boom 0',
          attempts: 3,
          at: DEAD[0]!.at,
        });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal(DEAD.map((d) => d.command.id));
  });

  it('command.deadLetters refuses a cursor that is not one of its own, and pages past the window', async () => {
    expect(deadLetters.params.safeParse({ cursor: 'abc' }).success).to.equal(false);
    expect(deadLetters.params.safeParse({ limit: 0 }).success).to.equal(false);
    const params = deadLetters.params.parse({ cursor: '9990', limit: 50 });
    let refused: unknown;
    try {
      await deadLetters.handler(params, ctx);
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).to.include('npm run dead -- list');
  });
});
