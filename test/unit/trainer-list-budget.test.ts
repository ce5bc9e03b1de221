import { expect } from 'chai';
import { ByteBudget } from '../../src/events/byte-budget.js';
import { silentLogger } from '../../src/log.js';
import type { DocPage } from '../../src/projections/projection-store.js';
import type { RpcContext } from '../../src/rpc/index.js';
import type { RpcServices } from '../../src/rpc/methods/services.js';
import { trainerQueryMethods } from '../../src/rpc/methods/trainer-queries.js';

const trainer = (id: string) => ({
  id,
  trainerId: id,
  x: 0,
  y: 0,
  isMoving: false,
  direction: { x: 0, y: 0 },
  speed: 5,
  version: 1,
  moves: 1,
  updatedAt: '2026-12-03T00:00:00.000Z',
  globalPosition: '1-0',
});

const page: DocPage = { docs: ['a', 'b', 'c', 'd', 'e'].map(trainer), nextCursor: 'e' };
const services = { readModels: { list: async () => page } } as unknown as RpcServices;
const list = trainerQueryMethods(services).find((m) => m.name === 'trainer.list')!;

const contextWith = (budget: ByteBudget): RpcContext => ({
  user: { userId: 'oak', groups: [], roles: ['admin'], isAdmin: true },
  correlationId: 'c-1',
  logger: silentLogger,
  budget,
});

type Listed = { trainers: { trainerId: string }[]; nextCursor: string | null };

describe('trainer.list within a response budget', () => {
  it('stops the page where the budget ends, with the cursor of the last trainer it holds', async () => {
    const size = JSON.stringify(trainer('a')).length;
    const cut = (await list.handler(
      { limit: 5 },
      contextWith(new ByteBudget(size * 2 + 10)),
    )) as Listed;
    expect(cut.trainers.map((t) => t.trainerId)).to.deep.equal(['a', 'b']);
    expect(cut.nextCursor).to.equal('b');
    const spent = new ByteBudget(size * 10);
    spent.charge(size * 10);
    const one = (await list.handler({ limit: 5 }, contextWith(spent))) as Listed;
    expect(
      [one.trainers.length, one.nextCursor],
      'always one, so the page has a cursor',
    ).to.deep.equal([1, 'a']);
    const whole = (await list.handler({ limit: 5 }, contextWith(new ByteBudget(1e6)))) as Listed;
    expect([whole.trainers.length, whole.nextCursor]).to.deep.equal([5, 'e']);
  });
});
