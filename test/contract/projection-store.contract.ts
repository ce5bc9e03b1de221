import { expect } from 'chai';
import {
  type ProjectionStore,
  ReadModelLagError,
  ReadModels,
  ValidationError,
} from '../../src/index.js';

/** What a contract run needs from an adapter. */
export interface ProjectionStoreFixture {
  readonly store: ProjectionStore;
  /** The adapter's own form of the n-th global position (n ≥ 1) of its partition's log. */
  pos(n: number): string;
  /** The partition the store holds (`pos` names it when there are several). */
  readonly partition: number;
  /** PARTITIONS of the topology. */
  readonly partitions: number;
  /** How many read-model documents exist across every generation (to see old ones dropped). */
  docCount(name: string): Promise<number>;
  cleanup(): Promise<void>;
}

/** The ProjectionStore contract (src/projections/projection-store.ts), run against every adapter. */
export function describeProjectionStoreContract(
  adapter: string,
  makeFixture: () => Promise<ProjectionStoreFixture>,
): void {
  describe(`ProjectionStore contract: ${adapter}`, () => {
    let f: ProjectionStoreFixture;
    let store: ProjectionStore;
    const name = 'p';
    beforeEach(async () => {
      f = await makeFixture();
      store = f.store;
    });
    afterEach(() => f.cleanup());

    /** Read models over every partition, the store under test at its own partition's place. */
    const readModelsOn = (tested: ProjectionStore, waitMs: number, backstopMs?: number) =>
      new ReadModels({
        stores: Array.from({ length: f.partitions }, (_, p) =>
          p === f.partition ? tested : store,
        ),
        projections: [{ name, streamOf: (id) => id }],
        partitionOf: () => f.partition,
        waitMs,
        ...(backstopMs ? { backstopMs } : {}),
      });

    const commitAs = (fence: number, from: string, to: string, writes = [] as const) =>
      store.commit(name, { fence, from, to, generation: 1, writes: [...writes] });

    describe('lease', () => {
      it('has one holder at a time; every new holder gets a higher fence', async () => {
        const a = await store.acquire(name, 'a', 10_000);
        expect(a).to.deep.equal({ owner: 'a', fence: 1 });
        expect(await store.acquire(name, 'b', 10_000)).to.equal(undefined);
        expect(await store.acquire(name, 'a', 10_000), 'the holder again').to.deep.equal(a);
        expect((await store.state(name)).leader).to.equal('a');
        await store.release(name, a!);
        expect((await store.state(name)).leader).to.equal(undefined);
        expect(await store.acquire(name, 'b', 10_000)).to.deep.equal({ owner: 'b', fence: 2 });
      });

      it('expires without renewal, and the old holder learns it lost the lease', async () => {
        const a = (await store.acquire(name, 'a', 150))!;
        expect(await store.renew(name, a, 150)).to.equal(true);
        await new Promise((resolve) => setTimeout(resolve, 250));
        const b = await store.acquire(name, 'b', 10_000);
        expect(b?.fence).to.equal(2);
        expect(await store.renew(name, a, 10_000)).to.equal(false);
        await store.release(name, a); // a stale release leaves the new holder alone
        expect((await store.state(name)).leader).to.equal('b');
      });

      it('can be stolen for a rebuild, fencing the holder out', async () => {
        const a = (await store.acquire(name, 'a', 10_000))!;
        const r = (await store.acquire(name, 'replay', 10_000, true))!;
        expect(r.fence).to.equal(a.fence + 1);
        expect(await store.renew(name, a, 10_000)).to.equal(false);
        expect(await commitAs(a.fence, '0', f.pos(1))).to.equal('fenced');
      });
    });

    describe('commit (DESIGN.md G4)', () => {
      it('writes the batch and the checkpoint together, and advances over batches with no writes', async () => {
        const { fence } = (await store.acquire(name, 'a', 10_000))!;
        const write = { id: 'ash', set: { x: 1, tag: 'a' }, incr: { moves: 1 } };
        expect(await commitAs(fence, '0', f.pos(2), [write] as never)).to.equal('ok');
        expect(await store.get(name, 'ash')).to.deep.equal({ x: 1, tag: 'a', moves: 1 });
        expect(await commitAs(fence, f.pos(2), f.pos(5))).to.equal('ok');
        expect((await store.state(name)).checkpoint).to.equal(f.pos(5));
      });

      it('refuses a stale fence and a batch that did not start at the checkpoint, writing nothing', async () => {
        const old = (await store.acquire(name, 'a', 10_000))!;
        await store.release(name, old);
        const now = (await store.acquire(name, 'b', 10_000))!;
        const write = [{ id: 'ash', set: { x: 1 } }] as never;
        expect(await commitAs(old.fence, '0', f.pos(1), write)).to.equal('fenced');
        expect(await commitAs(now.fence, f.pos(3), f.pos(4), write)).to.equal('moved');
        expect(await store.get(name, 'ash')).to.equal(undefined);
        expect((await store.state(name)).checkpoint).to.equal('0');
        expect(await commitAs(now.fence, '0', f.pos(1), write)).to.equal('ok');
        expect(await commitAs(now.fence, '0', f.pos(1), write), 'the same batch twice').to.equal(
          'moved',
        );
      });

      it('applies delete, then set, then incr; lists documents in id order a page at a time', async () => {
        const { fence } = (await store.acquire(name, 'a', 10_000))!;
        const ids = ['misty', 'ash', 'brock', 'gary', 'dawn'];
        const writes = ids.map((id) => ({ id, set: { name: id }, incr: { n: 2 } }));
        expect(await commitAs(fence, '0', f.pos(1), writes as never)).to.equal('ok');
        const more = [
          { id: 'ash', incr: { n: 3 } },
          { id: 'gary', delete: true },
          { id: 'dawn', delete: true, set: { name: 'dawn2' } },
        ];
        expect(await commitAs(fence, f.pos(1), f.pos(2), more as never)).to.equal('ok');
        expect(await store.get(name, 'ash')).to.deep.equal({ name: 'ash', n: 5 });
        expect(await store.get(name, 'gary')).to.equal(undefined);
        expect(await store.get(name, 'dawn')).to.deep.equal({ name: 'dawn2' });
        const first = await store.list(name, { limit: 2 });
        expect(first.docs.map((d) => d.id)).to.deep.equal(['ash', 'brock']);
        const second = await store.list(name, { limit: 2, after: first.nextCursor! });
        expect(second.docs.map((d) => d.id)).to.deep.equal(['dawn', 'misty']);
        const last = await store.list(name, { limit: 2, after: second.nextCursor! });
        expect(last).to.deep.equal({ docs: [] });
        expect(second.docs[1]).to.deep.equal({ id: 'misty', name: 'misty', n: 2 });
      });

      it('keeps only the newest documents of a capped index', async () => {
        const { fence } = (await store.acquire(name, 'a', 10_000))!;
        const finished = (id: string, score: number) => ({
          id,
          set: { id },
          keepNewest: { index: 'finished', score, keep: 2 },
        });
        await commitAs(fence, '0', f.pos(1), [finished('d3', 3), finished('d1', 1)] as never);
        await commitAs(fence, f.pos(1), f.pos(2), [
          { id: 'running', set: { x: 1 } },
          finished('d2', 2),
        ] as never);
        const ids = (await store.list(name, { limit: 10 })).docs.map((d) => d.id);
        expect(ids).to.deep.equal(['d2', 'd3', 'running']);
      });

      it('keeps JSON values as they were written', async () => {
        const { fence } = (await store.acquire(name, 'a', 10_000))!;
        const doc = { s: 'x "y"', n: -1.5, b: false, nil: null, o: { x: 0.1, y: [1, 'a'] } };
        await commitAs(fence, '0', f.pos(1), [{ id: 'j', set: doc }] as never);
        expect(await store.get(name, 'j')).to.deep.equal(doc);
      });
    });

    describe('rebuild into a new generation', () => {
      it('builds beside the live generation, swaps under the fence in one step, drops the old one', async () => {
        const live = (await store.acquire(name, 'a', 10_000))!;
        await commitAs(live.fence, '0', f.pos(1), [{ id: 'ash', set: { v: 'old' } }] as never);
        const rebuild = await store.beginRebuild(name);
        expect(rebuild).to.deep.equal({ generation: 2, checkpoint: '0' });
        expect(await store.beginRebuild(name), 'resumed, not restarted').to.deep.equal(rebuild);
        const batch = { fence: 0, from: '0', to: f.pos(1), generation: 2, rebuild: true };
        const writes = [{ id: 'ash', set: { v: 'new' } }];
        expect(await store.commit(name, { ...batch, writes })).to.equal('ok');
        expect(await store.commit(name, { ...batch, writes }), 'checked too').to.equal('moved');
        expect(await store.get(name, 'ash'), 'queries still read the live one').to.deep.equal({
          v: 'old',
        });
        await store.commit(name, { ...batch, from: f.pos(1), to: f.pos(3), writes: [] });
        let refused: unknown;
        await store.swap(name, live.fence + 1).catch((error: unknown) => {
          refused = error;
        });
        expect(String(refused)).to.match(/FENCED/);
        const taken = (await store.acquire(name, 'replay', 10_000, true))!;
        expect(await store.swap(name, taken.fence)).to.equal(1);
        const state = await store.state(name);
        expect([state.generation, state.checkpoint]).to.deep.equal([2, f.pos(3)]);
        expect(await store.get(name, 'ash')).to.deep.equal({ v: 'new' });
        expect(await f.docCount(name)).to.equal(2);
        expect(await store.dropOldGenerations(name)).to.be.greaterThan(0);
        expect(await f.docCount(name)).to.equal(1);
        expect(await store.beginRebuild(name)).to.deep.equal({ generation: 3, checkpoint: '0' });
      });
    });

    describe('waiting for a checkpoint (minPosition)', () => {
      /** The store, counting its `state` reads. */
      const counting = () => {
        const counter = { reads: 0 };
        const counted = new Proxy(store, {
          get(target, prop) {
            if (prop === 'state') {
              return (n: string) => {
                counter.reads += 1;
                return target.state(n);
              };
            }
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        return { counted, counter };
      };

      it('wakes waiters on the checkpoints the leader announces, without polling', async () => {
        const lease = (await store.acquire(name, 'leader', 10_000))!;
        const { counted, counter } = counting();
        // a backstop of a minute: within the test only an announcement can wake a waiter
        const readModels = readModelsOn(counted, 10_000, 60_000);
        let woken = false;
        const waits = Promise.all([1, 2, 3].map(() => readModels.reach(name, f.pos(3))));
        void waits.then(() => {
          woken = true;
        });
        let commits = 0;
        while (!woken && commits < 30) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          expect(
            await commitAs(lease.fence, commits ? f.pos(commits) : '0', f.pos(commits + 1)),
          ).to.equal('ok');
          commits += 1;
        }
        await waits;
        expect(commits, 'commits until the waiters woke').to.be.within(3, 29);
        expect(counter.reads, 'one state read per wait, at its start').to.equal(3);
      });

      it('reads state about once a second while a wait is never reached (not every 20 ms)', async () => {
        const { counted, counter } = counting();
        const readModels = readModelsOn(counted, 2500);
        const lag = await readModels.reach(name, f.pos(9)).catch((e: unknown) => e);
        expect(lag).to.be.instanceOf(ReadModelLagError);
        expect((lag as ReadModelLagError).position).to.equal('0');
        expect(counter.reads, 'the old code read ~125 times').to.be.within(2, 5);
      });
    });

    it('refuses a minPosition that names no partition of this topology, precisely (-32602)', async () => {
      const readModels = readModelsOn(store, 1000);
      const bad = [
        `${f.partitions}:1700000000001-0`, // one past the last partition
        f.partitions > 1 ? '1700000000001-0' : '0:1700000000001-0', // the other topology's form
        'x-1',
      ];
      for (const position of bad) {
        const error = await readModels.reach(name, position).catch((e: unknown) => e);
        expect(error, position).to.be.instanceOf(ValidationError);
        expect((error as Error).message, position).to.include(JSON.stringify(position));
      }
      const outOfRange = await readModels.reach(name, bad[0]).catch((e: unknown) => e);
      if (f.partitions > 1)
        expect((outOfRange as Error).message).to.match(
          new RegExp(`there are ${f.partitions} \\(0 to ${f.partitions - 1}\\)`),
        );
    });

    it('compares its own positions', () => {
      expect(store.reached(f.pos(10), f.pos(9))).to.equal(true);
      expect(store.reached(f.pos(9), f.pos(9))).to.equal(true);
      expect(store.reached(f.pos(9), f.pos(10))).to.equal(false);
    });
  });
}
