import { expect } from 'chai';
import {
  ANY,
  ByteBudget,
  ConcurrencyError,
  DomainRuleError,
  type EventStore,
  type NewEvent,
  NO_STREAM,
  OverloadedError,
  type RecordedEvent,
  START,
  STREAM_EXISTS,
  ValidationError,
} from '../../src/index.js';

/** What a contract run needs from an adapter. */
export interface EventStoreFixture {
  readonly store: EventStore;
  /** How many things the backend holds (Redis: keys under the prefix); bad input must not change it. */
  footprint(): Promise<number>;
  /** Starts listening on `channel`; `message` resolves with the next message published there. */
  nextReply(channel: string): Promise<{ readonly message: Promise<string> }>;
  /** Jobs queued on `queue` by appends to `streamId` (Redis: its partition's `jobs:<queue>`). */
  queued(queue: string, streamId: string): Promise<number>;
  /**
   * With partitions (DESIGN.md §8): the log is ordered per partition and merged by time, positions
   * name partitions, and `head`/`nextPosition` are whole-log cursors rather than a position.
   */
  readonly partitioned?: boolean;
  /** A reply channel the append of `streamId` may publish on (Redis: in its partition's slot). */
  replyChannel?(streamId: string, name: string): string;
  /**
   * EventStoreDB (DESIGN.md §4): outcomes, notifications and jobs are written after the append,
   * by the notifier following `$all`; resolves once it caught up with every append so far.
   * Absent where the append writes them itself, atomically.
   */
  settle?(): Promise<void>;
  /** With `settle`: the methods of the notifications written so far, oldest first. */
  notificationMethods?(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** `n` streams `<kind>-…` of one partition (for checks bounded per partition, like job queues). */
function streamsTogether(fx: EventStoreFixture, kind: string, n: number): string[] {
  const first = `${kind}-0`;
  const partitionOf = (id: string) => fx.replyChannel?.(id, 'x') ?? '';
  const found: string[] = [];
  for (let i = 0; found.length < n; i++) {
    if (partitionOf(`${kind}-${i}`) === partitionOf(first)) found.push(`${kind}-${i}`);
  }
  return found;
}

/** The millisecond of a position (`<ms>-<seq>`, with partitions `<p>:<ms>-<seq>`). */
function msOf(position: string): number {
  return Number(position.slice(position.indexOf(':') + 1).split('-')[0]);
}

/** Each stream's events in version order, and the merged log never going back in time. */
function expectPartitionedOrder(log: readonly RecordedEvent[]): void {
  const versions = new Map<string, number>();
  let lastMs = 0;
  for (const e of log) {
    expect(e.version, `${e.streamId} in order`).to.equal((versions.get(e.streamId) ?? 0) + 1);
    versions.set(e.streamId, e.version);
    expect(e.globalPosition).to.match(/^\d+:\d+-\d+$/);
    expect(msOf(e.globalPosition)).to.be.at.least(lastMs);
    lastMs = msOf(e.globalPosition);
  }
}

const ev = (type: string, data: NewEvent['data'] = {}): NewEvent => ({ type, data });
const uuidLike = () => crypto.randomUUID();

async function expectRejects<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    return error as E;
  }
  expect.fail(`expected a ${type.name}`);
}

async function readWholeLog(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    all.push(...page.events);
    after = page.nextPosition;
    if (page.isEnd) return all;
  }
}

/** The EventStore contract (DESIGN.md §4), written once and run against every adapter. */
export function describeEventStoreContract(
  name: string,
  makeFixture: () => Promise<EventStoreFixture>,
): void {
  describe(`EventStore contract: ${name}`, () => {
    let fx: EventStoreFixture;
    let store: EventStore;
    beforeEach(async () => {
      fx = await makeFixture();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.cleanup();
    });

    describe('append and read', () => {
      it('records the full envelope with versions from 1', async () => {
        const result = await store.append(
          'trainer-ash',
          [ev('TrainerMoved', { x: 1 }), ev('TrainerMoved', { x: 2 })],
          {
            metadata: { commandId: 'c-1', correlationId: 'corr-1', userId: 'ash' },
          },
        );
        expect(result.duplicate).to.equal(false);
        if (result.duplicate) return;
        expect([result.firstVersion, result.lastVersion]).to.deep.equal([1, 2]);
        const page = await store.readStream('trainer-ash');
        expect(page.isEnd).to.equal(true);
        expect(page.nextVersion).to.equal(3);
        expect(page.events.map((e) => e.version)).to.deep.equal([1, 2]);
        const [first] = page.events;
        expect(first).to.include({
          type: 'TrainerMoved',
          schemaVersion: 1,
          streamId: 'trainer-ash',
          version: 1,
        });
        expect(first!.data).to.deep.equal({ x: 1 });
        expect(first!.id).to.be.a('string').and.not.equal('');
        expect(first!.globalPosition).to.equal(result.globalPositions[0]);
        expect(first!.metadata).to.include({
          commandId: 'c-1',
          correlationId: 'corr-1',
          userId: 'ash',
          serverId: 'test-server',
        });
        expect(Date.parse(first!.metadata.timestamp)).to.be.a('number').and.not.NaN;
        expect(result.events).to.deep.equal(page.events);
      });

      it('keeps event ids, schema versions and per-event metadata given by the caller', async () => {
        const id = uuidLike();
        await store.append('trainer-misty', [
          {
            id,
            type: 'TrainerMoved',
            data: [1, 'two'],
            schemaVersion: 3,
            metadata: { causationId: 'cause' },
          },
        ]);
        const [event] = (await store.readStream('trainer-misty')).events;
        expect(event).to.include({ id, schemaVersion: 3 });
        expect(event!.data).to.deep.equal([1, 'two']);
        expect(event!.metadata.causationId).to.equal('cause');
      });

      it('reads a missing stream as empty', async () => {
        const page = await store.readStream('trainer-nobody');
        expect(page).to.deep.equal({ events: [], nextVersion: 1, isEnd: true });
      });

      it('pages forwards and backwards', async () => {
        for (let i = 1; i <= 7; i++) await store.append('trainer-brock', [ev('Step', { i })]);
        const fwd = await store.readStream('trainer-brock', { fromVersion: 3, limit: 3 });
        expect(fwd.events.map((e) => e.version)).to.deep.equal([3, 4, 5]);
        expect([fwd.nextVersion, fwd.isEnd]).to.deep.equal([6, false]);
        const rest = await store.readStream('trainer-brock', {
          fromVersion: fwd.nextVersion,
          limit: 3,
        });
        expect(rest.events.map((e) => e.version)).to.deep.equal([6, 7]);
        expect(rest.isEnd).to.equal(true);
        const back = await store.readStream('trainer-brock', { direction: 'backward', limit: 3 });
        expect(back.events.map((e) => e.version)).to.deep.equal([7, 6, 5]);
        expect([back.nextVersion, back.isEnd]).to.deep.equal([4, false]);
        const back2 = await store.readStream('trainer-brock', {
          direction: 'backward',
          fromVersion: 4,
          limit: 10,
        });
        expect(back2.events.map((e) => e.version)).to.deep.equal([4, 3, 2, 1]);
        expect(back2.isEnd).to.equal(true);
      });

      it('reads within a byte budget: short pages that resume without gap, shared, never oversized', async () => {
        const text = 'x'.repeat(10_000);
        for (let i = 1; i <= 10; i++)
          await store.append('trainer-heavy', [ev('Heavy', { i, text })]);
        const versions: number[] = [];
        let fromVersion = 1;
        for (;;) {
          const budget = new ByteBudget(35_000);
          const page = await store.readStream('trainer-heavy', { fromVersion, budget });
          expect(page.events.length).to.be.within(1, 3);
          versions.push(...page.events.map((e) => e.version));
          fromVersion = page.nextVersion;
          if (page.isEnd) break;
        }
        expect(versions).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const shared = new ByteBudget(35_000);
        const back = await store.readStream('trainer-heavy', {
          direction: 'backward',
          budget: shared,
        });
        expect(back.events.map((e) => e.version)).to.deep.equal([10, 9, 8]);
        expect([back.nextVersion, back.isEnd]).to.deep.equal([7, false]);
        const spent = await store.readAll({ types: ['Heavy'], budget: shared });
        expect([spent.events.length, spent.isEnd]).to.deep.equal([0, false]);
        const log = await store.readAll({
          after: spent.nextPosition,
          types: ['Heavy'],
          budget: new ByteBudget(35_000),
        });
        expect(log.events.map((e) => e.version)).to.deep.equal([1, 2, 3]);
        if (fx.partitioned) {
          expect(log.isEnd).to.equal(false);
          const rest = await store.readAll({ after: log.nextPosition, types: ['Heavy'], limit: 1 });
          expect(rest.events.map((e) => e.version)).to.deep.equal([4]);
        } else {
          expect([log.nextPosition, log.isEnd]).to.deep.equal([
            log.events[2]!.globalPosition,
            false,
          ]);
        }
        const tooLarge = await expectRejects(
          store.readStream('trainer-heavy', { budget: new ByteBudget(5_000) }),
          DomainRuleError,
        );
        expect(tooLarge.rule).to.equal('response-too-large');
      });

      it('round-trips large and unicode payloads exactly', async () => {
        const text = '포켓몬 트레이너 🚂 ñ "quotes" \\ \n\t\u0000 \u2028 end';
        const big = 'x'.repeat(60_000);
        const data = { text, big, nested: { list: [1.5, -0, 1e21, true, null, text] } };
        await store.append('trainer-unicode', [ev('Big', data)]);
        const [event] = (await store.readStream('trainer-unicode')).events;
        expect(event!.data).to.deep.equal(JSON.parse(JSON.stringify(data)));
        const [logged] = (await store.readAll({ types: ['Big'] })).events;
        expect(logged!.data).to.deep.equal(event!.data);
      });
    });

    describe('optimistic concurrency', () => {
      it('lets exactly one of two appends with the same expected version win', async () => {
        await store.append('trainer-race', [ev('A')]);
        const attempts = await Promise.allSettled([
          store.append('trainer-race', [ev('B')], { expectedVersion: 1 }),
          store.append('trainer-race', [ev('C')], { expectedVersion: 1 }),
        ]);
        const won = attempts.filter((a) => a.status === 'fulfilled');
        const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
        expect(won).to.have.length(1);
        expect(lost).to.have.length(1);
        const error = lost[0]!.reason as ConcurrencyError;
        expect(error).to.be.instanceOf(ConcurrencyError);
        expect(error.expectedVersion).to.equal(1);
        expect(error.actualVersion).to.equal(2);
        expect((await store.readStream('trainer-race')).events.map((e) => e.version)).to.deep.equal(
          [1, 2],
        );
      });

      it('checks no_stream, exists and exact versions', async () => {
        await store.append('trainer-a', [ev('A')], { expectedVersion: NO_STREAM });
        const again = await expectRejects(
          store.append('trainer-a', [ev('A')], { expectedVersion: NO_STREAM }),
          ConcurrencyError,
        );
        expect(again.actualVersion).to.equal(1);
        await expectRejects(
          store.append('trainer-a', [ev('A')], { expectedVersion: 0 }),
          ConcurrencyError,
        );
        const missing = await expectRejects(
          store.append('trainer-b', [ev('B')], { expectedVersion: STREAM_EXISTS }),
          ConcurrencyError,
        );
        expect(missing.actualVersion).to.equal(0);
        await store.append('trainer-a', [ev('A')], { expectedVersion: STREAM_EXISTS });
        const stale = await expectRejects(
          store.append('trainer-a', [ev('A')], { expectedVersion: 1 }),
          ConcurrencyError,
        );
        expect([stale.expectedVersion, stale.actualVersion]).to.deep.equal([1, 2]);
        await store.append('trainer-a', [ev('A')], { expectedVersion: 2 });
        await store.append('trainer-a', [ev('A')], { expectedVersion: ANY });
        expect((await store.readStream('trainer-a')).events.map((e) => e.version)).to.deep.equal([
          1, 2, 3, 4,
        ]);
        expect((await store.readStream('trainer-b')).events).to.have.length(0);
      });

      it('keeps versions gapless under many concurrent appends', async () => {
        const sizes = Array.from({ length: 60 }, (_, i) => (i % 3) + 1);
        await Promise.all(
          sizes.map((n, i) =>
            store.append(
              'trainer-busy',
              Array.from({ length: n }, () => ev('Step', { i })),
            ),
          ),
        );
        const total = sizes.reduce((a, b) => a + b, 0);
        const page = await store.readStream('trainer-busy', { limit: 1000 });
        expect(page.events.map((e) => e.version)).to.deep.equal(
          Array.from({ length: total }, (_, i) => i + 1),
        );
        // each append's events stay together and in order
        for (let i = 0; i < page.events.length; ) {
          const owner = (page.events[i]!.data as { i: number }).i;
          const n = sizes[owner]!;
          expect(
            page.events.slice(i, i + n).every((e) => (e.data as { i: number }).i === owner),
          ).to.equal(true);
          i += n;
        }
      });
    });

    describe('idempotency keys', () => {
      it('writes nothing on a repeated key and returns the first outcome', async () => {
        const key = uuidLike();
        const first = await store.append('trainer-ash', [ev('A', { n: 1 })], {
          idempotencyKey: key,
          result: { answer: 42 },
        });
        await fx.settle?.();
        const before = await fx.footprint();
        const again = await store.append('trainer-ash', [ev('B', { n: 2 }), ev('C')], {
          idempotencyKey: key,
          result: { answer: 0 },
        });
        expect(again.duplicate).to.equal(true);
        if (!again.duplicate || first.duplicate) return;
        expect(again.outcome).to.deep.equal({
          kind: 'appended',
          streamId: 'trainer-ash',
          firstVersion: 1,
          lastVersion: 1,
          globalPositions: first.globalPositions,
          result: { answer: 42 },
        });
        expect(await fx.footprint()).to.equal(before);
        expect((await store.readStream('trainer-ash')).events).to.have.length(1);
        expect(await store.getOutcome(key)).to.deep.equal(again.outcome);
      });

      it('dedups even when the repeat targets another stream or expects another version', async () => {
        // with partitions a key is remembered in its stream's partition: another stream of it
        const [one, two] = streamsTogether(fx, 'deployment', 2) as [string, string];
        const key = `deploy-1/3/${uuidLike()}`;
        await store.append(one, [ev('StageStarted')], {
          idempotencyKey: key,
          expectedVersion: NO_STREAM,
        });
        await fx.settle?.();
        const again = await store.append(two, [ev('StageStarted')], {
          idempotencyKey: key,
          expectedVersion: 7,
        });
        expect(again.duplicate).to.equal(true);
        expect((await store.readStream(two)).events).to.have.length(0);
      });

      it('records domain-error outcomes once, and an append with that key then writes nothing', async () => {
        const key = uuidLike();
        const rejected = {
          kind: 'rejected',
          error: { error: 'rule', message: 'not moving', rule: 'not-moving' },
        } as const;
        expect(await store.recordOutcome(key, rejected, { streamId: 'trainer-x' })).to.deep.equal({
          recorded: true,
          outcome: rejected,
        });
        const other = {
          kind: 'rejected',
          error: { error: 'rule', message: 'other', rule: 'other' },
        } as const;
        expect(await store.recordOutcome(key, other, { streamId: 'trainer-x' })).to.deep.equal({
          recorded: false,
          outcome: rejected,
        });
        const before = await fx.footprint();
        const append = await store.append('trainer-x', [ev('A')], { idempotencyKey: key });
        expect(append).to.deep.equal({ duplicate: true, outcome: rejected });
        expect(await fx.footprint()).to.equal(before);
        expect(await store.getOutcome(key)).to.deep.equal(rejected);
        expect(await store.getOutcome(uuidLike())).to.equal(undefined);
      });

      it('does not record concurrency conflicts, so the key can be retried', async () => {
        const key = uuidLike();
        await store.append('trainer-c', [ev('A')]);
        await expectRejects(
          store.append('trainer-c', [ev('B')], { idempotencyKey: key, expectedVersion: 5 }),
          ConcurrencyError,
        );
        expect(await store.getOutcome(key)).to.equal(undefined);
        const retried = await store.append('trainer-c', [ev('B')], {
          idempotencyKey: key,
          expectedVersion: 1,
        });
        expect(retried.duplicate).to.equal(false);
      });

      it('publishes the key with its outcome on the reply channel once recorded', async () => {
        const key = uuidLike();
        const channel = fx.replyChannel?.('trainer-r', 'replies-a') ?? 'replies-a';
        const heard = await fx.nextReply(channel);
        const appended = await store.append('trainer-r', [ev('A')], {
          idempotencyKey: key,
          replyChannel: channel,
        });
        const [heardKey, heardOutcome] = (await heard.message).split('\t');
        expect(heardKey).to.equal(key);
        expect(JSON.parse(heardOutcome!)).to.deep.equal(await store.getOutcome(key));
        expect(appended.duplicate).to.equal(false);
        const key2 = uuidLike();
        const heard2 = await fx.nextReply(channel);
        await store.recordOutcome(
          key2,
          { kind: 'rejected', error: { error: 'rule', message: 'no', rule: 'no' } },
          { replyChannel: channel, streamId: 'trainer-r' },
        );
        expect((await heard2.message).split('\t')[0]).to.equal(key2);
      });
    });

    describe('global log', () => {
      it('orders events across streams by append and pages with nextPosition', async () => {
        const order: string[] = [];
        for (let i = 0; i < 12; i++) {
          const stream = `trainer-${['a', 'b', 'c'][i % 3]}`;
          await store.append(stream, [ev('Step', { i })]);
          order.push(`${stream}#${i}`);
        }
        const seen: string[] = [];
        let after = START;
        let pages = 0;
        for (;;) {
          const page = await store.readAll({ after, limit: 5 });
          pages += 1;
          seen.push(...page.events.map((e) => `${e.streamId}#${(e.data as { i: number }).i}`));
          after = page.nextPosition;
          if (page.isEnd) break;
        }
        const log = await readWholeLog(store);
        expect(pages).to.equal(3);
        if (fx.partitioned) {
          // per stream always, across partitions by time only (DESIGN.md §8)
          expect([...seen].sort()).to.deep.equal([...order].sort());
          expectPartitionedOrder(log);
          return;
        }
        expect(seen).to.deep.equal(order);
        expect(log.map((e) => e.version)).to.deep.equal([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
        const fromMiddle = await store.readAll({ after: log[5]!.globalPosition, limit: 100 });
        expect(fromMiddle.events.map((e) => e.globalPosition)).to.deep.equal(
          log.slice(6).map((e) => e.globalPosition),
        );
      });

      it('tells the position of its newest event (START when empty)', async () => {
        expect(await store.head()).to.equal(START);
        await store.append('trainer-a', [ev('A'), ev('B')]);
        const log = await readWholeLog(store);
        if (fx.partitioned) {
          const after = await store.readAll({ after: await store.head() });
          expect([after.events.length, after.isEnd, log.length]).to.deep.equal([0, true, 2]);
          return;
        }
        expect(await store.head()).to.equal(log.at(-1)!.globalPosition);
      });

      it('filters by type', async () => {
        await store.append('trainer-a', [ev('A'), ev('B'), ev('A'), ev('C')]);
        const page = await store.readAll({ types: ['A', 'C'] });
        expect(page.events.map((e) => e.type)).to.deep.equal(['A', 'A', 'C']);
        expect(page.isEnd).to.equal(true);
      });

      it('subscribeAll catches up, then follows live with no gap or duplicate at the seam', async () => {
        for (let i = 0; i < 30; i++) await store.append(`trainer-s${i % 4}`, [ev('Step', { i })]);
        const got: number[] = [];
        let release: () => void = () => {};
        const reached = new Promise<void>((resolve) => {
          release = resolve;
        });
        const sub = store.subscribeAll({ after: START, batchSize: 7 }, async (events) => {
          got.push(...events.map((e) => (e.data as { i: number }).i));
          await new Promise((resolve) => setTimeout(resolve, 2)); // slow handler: live appends race the catch-up
          if (got.length >= 60) release();
        });
        const live = (async () => {
          for (let i = 30; i < 60; i++)
            await store.append(`trainer-s${i % 4}`, [ev('Step', { i })]);
        })();
        await live;
        await Promise.race([
          reached,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`only ${got.length} events`)), 10_000),
          ),
        ]);
        await sub.close();
        if (fx.partitioned) {
          // every event once; each stream's in order
          expect([...got].sort((a, b) => a - b)).to.deep.equal(
            Array.from({ length: 60 }, (_, i) => i),
          );
          for (let s = 0; s < 4; s++) {
            const ofStream = got.filter((i) => i % 4 === s);
            expect(ofStream).to.deep.equal([...ofStream].sort((a, b) => a - b));
          }
          const after = await store.readAll({ after: sub.position });
          expect([after.events.length, after.isEnd]).to.deep.equal([0, true]);
          return;
        }
        expect(got).to.deep.equal(Array.from({ length: 60 }, (_, i) => i));
        const log = await readWholeLog(store);
        expect(sub.position).to.equal(log.at(-1)!.globalPosition);
      });

      it('subscribeAll starts after a given position', async () => {
        await store.append('trainer-a', [ev('A'), ev('B'), ev('C')]);
        const log = await readWholeLog(store);
        const got: string[] = [];
        const sub = store.subscribeAll({ after: log[0]!.globalPosition }, (events) => {
          got.push(...events.map((e) => e.type));
        });
        await store.append('trainer-a', [ev('D')]);
        const deadline = Date.now() + 5000;
        while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await sub.close();
        expect(got).to.deep.equal(['B', 'C', 'D']);
      });

      it('subscribeAll stops and rejects done when the handler throws', async () => {
        await store.append('trainer-a', [ev('A')]);
        const sub = store.subscribeAll({}, () => {
          throw new Error('handler broke');
        });
        try {
          await sub.done;
          expect.fail('done should reject');
        } catch (error) {
          expect((error as Error).message).to.equal('handler broke');
        }
        expect(sub.position).to.equal(START);
      });
    });

    describe('notifications', () => {
      it('writes notifications with the events, each with the id before it', async () => {
        // notifications are ordered per partition: two streams of one partition
        const [first, second] = streamsTogether(fx, 'trainer', 2) as [string, string];
        const r1 = await store.append(first, [ev('Moved')], {
          notifications: [
            {
              method: 'position.update',
              params: { x: 1 },
              target: 'broadcast',
              targetIds: [],
              topic: 'trainer.a',
            },
            {
              method: 'message.hi',
              params: { text: '안녕' },
              target: 'user',
              targetIds: ['misty', 'brock'],
            },
          ],
        });
        const r2 = await store.append(second, [ev('Moved')], {
          notifications: [
            { method: 'position.update', params: { x: 2 }, target: 'group', targetIds: ['gym'] },
          ],
        });
        if (r1.duplicate || r2.duplicate) return expect.fail('not a duplicate');
        if (fx.settle && fx.notificationMethods) {
          // written by the notifier, in $all order, after the append returned
          await fx.settle();
          expect(await fx.notificationMethods()).to.deep.equal([
            'position.update',
            'message.hi',
            'position.update',
          ]);
          return;
        }
        expect(r1.notifications).to.have.length(2);
        expect(r1.notifications[0]!.prevId).to.equal('0-0');
        expect(r1.notifications[1]!.prevId).to.equal(r1.notifications[0]!.id);
        expect(r2.notifications[0]!.prevId).to.equal(r1.notifications[1]!.id);
      });
    });

    describe('jobs queued by an append (DESIGN.md §7)', () => {
      const job = (id: string, maxWaiting = 2) => ({
        queue: 'deploy',
        group: 'runners',
        id,
        type: 'RunDeployment',
        data: { id },
        maxWaiting,
      });
      it('queues the job with the events, and refuses past maxWaiting writing nothing', async () => {
        // one partition's streams: a queue's bound is its partition's (DESIGN.md §8)
        const [a, b, c] = streamsTogether(fx, 'deployment', 3) as [string, string, string];
        await store.append(a, [ev('Started')], { enqueue: job('a') });
        await store.append(b, [ev('Started')], { enqueue: job('b') });
        await fx.settle?.(); // EventStoreDB: the notifier queues them (README: the bound is approximate)
        expect(await fx.queued('deploy', a)).to.equal(2);
        const refused = await expectRejects(
          store.append(c, [ev('Started')], {
            enqueue: job('c'),
            idempotencyKey: 'start-c',
          }),
          OverloadedError,
        );
        expect(refused.message).to.match(/the deploy queue is full/);
        expect((await store.readStream(c)).events).to.have.length(0);
        expect(await store.getOutcome('start-c')).to.equal(undefined);
        expect(await fx.queued('deploy', a)).to.equal(2);
        await expectRejects(
          store.append('deployment-d', [ev('Started')], {
            enqueue: { ...job('d'), queue: 'Bad Name' },
          }),
          ValidationError,
        );
      });
    });

    describe('bad input is refused and writes nothing', () => {
      const cases: [string, () => [string, NewEvent[], object?]][] = [
        ['an empty event list', () => ['trainer-a', []]],
        ['an invalid stream id', () => ['trainer a', [ev('A')]]],
        ['a stream id without a kind', () => ['ash', [ev('A')]]],
        ['a too long stream id', () => [`trainer-${'x'.repeat(129)}`, [ev('A')]]],
        ['undefined data', () => ['trainer-a', [{ type: 'A', data: undefined as never }]]],
        ['NaN in data', () => ['trainer-a', [ev('A', { x: Number.NaN })]]],
        ['Infinity in data', () => ['trainer-a', [ev('A', { x: Number.POSITIVE_INFINITY })]]],
        ['a function in data', () => ['trainer-a', [ev('A', { f: (() => 1) as never })]]],
        ['a bigint in data', () => ['trainer-a', [ev('A', { n: 1n as never })]]],
        ['a Date in data', () => ['trainer-a', [ev('A', { d: new Date() as never })]]],
        ['undefined inside data', () => ['trainer-a', [ev('A', { u: undefined as never })]]],
        [
          'circular data',
          () => {
            const o: Record<string, unknown> = {};
            o.self = o;
            return ['trainer-a', [ev('A', o as never)]];
          },
        ],
        ['oversized data', () => ['trainer-a', [ev('A', { s: 'x'.repeat(70_000) })]]],
        ['an invalid event type', () => ['trainer-a', [ev('has space')]]],
        [
          'a good event followed by a bad one',
          () => ['trainer-a', [ev('A'), ev('B', { x: Number.NaN })]],
        ],
        ['a bad expected version', () => ['trainer-a', [ev('A')], { expectedVersion: -1 }]],
        ['a bad idempotency key', () => ['trainer-a', [ev('A')], { idempotencyKey: 'has space' }]],
        [
          'a non-JSON result',
          () => ['trainer-a', [ev('A')], { idempotencyKey: uuidLike(), result: { x: Number.NaN } }],
        ],
        [
          'oversized notification params',
          () => [
            'trainer-a',
            [ev('A')],
            {
              notifications: [
                {
                  method: 'm.x',
                  params: { s: 'x'.repeat(17_000) },
                  target: 'broadcast',
                  targetIds: [],
                },
              ],
            },
          ],
        ],
        [
          'a notification addressed to nobody',
          () => [
            'trainer-a',
            [ev('A')],
            { notifications: [{ method: 'm.x', params: {}, target: 'user', targetIds: [] }] },
          ],
        ],
        [
          'a notification with a bad topic',
          () => [
            'trainer-a',
            [ev('A')],
            {
              notifications: [
                { method: 'm.x', params: {}, target: 'broadcast', targetIds: [], topic: 'a..b' },
              ],
            },
          ],
        ],
      ];
      for (const [what, make] of cases) {
        it(`refuses ${what}`, async () => {
          const before = await fx.footprint();
          const [streamId, events, options] = make();
          const error = await expectRejects(
            store.append(streamId, events, options),
            ValidationError,
          );
          expect(error.issues.length).to.be.greaterThan(0);
          expect(error.issues[0]!.message).to.be.a('string').and.not.equal('');
          expect(await fx.footprint()).to.equal(before);
        });
      }

      it('reports every problem of an append at once', async () => {
        const error = await expectRejects(
          store.append('trainer-a', [ev('bad type'), ev('A', { x: Number.NaN })], {
            expectedVersion: 1.5 as never,
          }),
          ValidationError,
        );
        expect(error.issues.map((i) => i.path)).to.include.members([
          'expectedVersion',
          'events[0].type',
          'events[1].data.x',
        ]);
        expect(await fx.footprint()).to.equal(0);
      });

      it('refuses bad read arguments with typed errors', async () => {
        await expectRejects(store.readStream('not a stream'), ValidationError);
        await expectRejects(store.readStream('trainer-a', { limit: 0 }), ValidationError);
        await expectRejects(store.readStream('trainer-a', { limit: 1001 }), ValidationError);
        await expectRejects(store.readAll({ after: 'nonsense' }), ValidationError);
        await expectRejects(store.getOutcome('bad key!'), ValidationError);
      });
    });
  });
}
