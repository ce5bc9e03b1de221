import {
  ANY,
  type AppendResult,
  BACKWARDS,
  DeadlineExceededError,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type Position,
  type ResolvedEvent,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { expect } from 'chai';
import {
  type EventStoreDouble,
  type ProposedEvent,
  startEventStoreDouble,
} from '../support/eventstore-double/index.js';

/** Deterministic event ids: `uuid(1)` is `00000000-0000-4000-8000-000000000001`. */
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

const event = (n: number, type = 'Tested') =>
  jsonEvent({ id: uuid(n), type, data: { n }, metadata: { correlationId: `c-${n}` } });

/** An event as the double's memory takes it, for writes that bypass the client. */
const proposed = (n: number): ProposedEvent => ({
  id: uuid(n),
  type: 'Tested',
  contentType: 'application/json',
  data: Buffer.from(JSON.stringify({ n })),
  customMetadata: new Uint8Array(),
});

async function collect(reads: AsyncIterable<ResolvedEvent>): Promise<ResolvedEvent[]> {
  const events: ResolvedEvent[] = [];
  for await (const resolved of reads) events.push(resolved);
  return events;
}

const revisions = (events: readonly ResolvedEvent[]) => events.map((e) => e.event?.revision);
const ids = (events: readonly ResolvedEvent[]) => events.map((e) => e.event?.id);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Waits until `check` holds, polling; fails after `ms`. */
/** What a subscription delivers, and how many had arrived when it caught up (-1 until then). */
function following(subscription: {
  on(event: 'caughtUp', listener: () => void): unknown;
  on(event: 'data', listener: (resolved: ResolvedEvent) => void): unknown;
}) {
  const state = { received: [] as ResolvedEvent[], caughtUpAfter: -1 };
  subscription.on('caughtUp', () => {
    state.caughtUpAfter = state.received.length;
  });
  subscription.on('data', (resolved: ResolvedEvent) => state.received.push(resolved));
  return state;
}

async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('EventStoreDB double (protocol-level test server)', () => {
  let double: EventStoreDouble;
  let client: EventStoreDBClient;

  async function fresh(options: Parameters<typeof startEventStoreDouble>[0] = {}) {
    double = await startEventStoreDouble(options);
    client = EventStoreDBClient.connectionString(double.connectionString);
  }

  afterEach(async () => {
    await client?.dispose();
    await double?.stop();
  });

  for (const path of ['BatchAppend', 'Append'] as const) {
    describe(`appends through ${path}`, () => {
      beforeEach(() => fresh({ batchAppend: path === 'BatchAppend' }));

      it(`uses ${path} and stores the events with revisions and metadata`, async () => {
        const result = await client.appendToStream('order-1', [event(1), event(2), event(3)], {
          expectedRevision: NO_STREAM,
        });
        expect(result.success).to.equal(true);
        expect(result.nextExpectedRevision).to.equal(2n);
        const read = await collect(client.readStream('order-1'));
        expect(revisions(read)).to.deep.equal([0n, 1n, 2n]);
        expect(ids(read)).to.deep.equal([uuid(1), uuid(2), uuid(3)]);
        expect(read[1]?.event?.data).to.deep.equal({ n: 2 });
        expect(read[1]?.event?.metadata).to.deep.equal({ correlationId: 'c-2' });
        expect(read[1]?.event?.type).to.equal('Tested');
        expect(result.position).to.deep.equal(read[2]?.event?.position);
        const counts = double.callCounts();
        if (path === 'BatchAppend') {
          expect(counts.batchAppend).to.equal(1);
          expect(counts.append).to.equal(0);
        } else {
          expect(counts.append).to.equal(1);
          expect(counts.batchAppend).to.equal(0);
        }
      });

      it('no_stream: succeeds on a new stream, refuses an existing one with its revision', async () => {
        await client.appendToStream('s', [event(1)], { expectedRevision: NO_STREAM });
        const error = await rejection(
          client.appendToStream('s', [event(2)], { expectedRevision: NO_STREAM }),
        );
        expect(error).to.be.instanceOf(WrongExpectedVersionError);
        const wrong = error as WrongExpectedVersionError;
        expect(wrong.streamName).to.equal('s');
        expect(wrong.expectedVersion).to.equal('no_stream');
        expect(wrong.actualVersion).to.equal(0n);
        expect(double.memory.stream('s')).to.have.length(1);
      });

      it('stream_exists: refuses a missing stream (actual no_stream), accepts an existing one', async () => {
        const error = await rejection(
          client.appendToStream('s', [event(1)], { expectedRevision: STREAM_EXISTS }),
        );
        expect(error).to.be.instanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).expectedVersion).to.equal('stream_exists');
        expect((error as WrongExpectedVersionError).actualVersion).to.equal('no_stream');
        expect(double.memory.stream('s')).to.equal(undefined);
        await client.appendToStream('s', [event(1)], { expectedRevision: ANY });
        const ok = await client.appendToStream('s', [event(2)], {
          expectedRevision: STREAM_EXISTS,
        });
        expect(ok.nextExpectedRevision).to.equal(1n);
      });

      it('exact revision: accepts the current one, refuses a stale one with both revisions', async () => {
        await client.appendToStream('s', [event(1), event(2)], { expectedRevision: NO_STREAM });
        const ok = await client.appendToStream('s', [event(3)], { expectedRevision: 1n });
        expect(ok.nextExpectedRevision).to.equal(2n);
        const error = await rejection(
          client.appendToStream('s', [event(4)], { expectedRevision: 1n }),
        );
        expect(error).to.be.instanceOf(WrongExpectedVersionError);
        expect((error as WrongExpectedVersionError).expectedVersion).to.equal(1n);
        expect((error as WrongExpectedVersionError).actualVersion).to.equal(2n);
        const missing = await rejection(
          client.appendToStream('other', [event(5)], { expectedRevision: 0n }),
        );
        expect((missing as WrongExpectedVersionError).actualVersion).to.equal('no_stream');
        expect(double.memory.all()).to.have.length(3);
      });

      it('any: appends whatever the stream is at', async () => {
        const first = await client.appendToStream('s', [event(1)], { expectedRevision: ANY });
        const second = await client.appendToStream('s', [event(2)], { expectedRevision: ANY });
        expect([first.nextExpectedRevision, second.nextExpectedRevision]).to.deep.equal([0n, 1n]);
      });

      it('idempotence: the same ids at the same expected revision return the original result', async () => {
        const original = await client.appendToStream('s', [event(1), event(2)], {
          expectedRevision: NO_STREAM,
        });
        await client.appendToStream('s', [event(3)], { expectedRevision: 1n });
        const retried = await client.appendToStream('s', [event(1), event(2)], {
          expectedRevision: NO_STREAM,
        });
        expect(retried).to.deep.equal(original);
        const retriedExact = await client.appendToStream('s', [event(3)], { expectedRevision: 1n });
        expect(retriedExact.nextExpectedRevision).to.equal(2n);
        expect(double.memory.stream('s')).to.have.length(3);
        // Under `any`, best effort: a repeat of the stream's last events writes nothing…
        const retriedAny = await client.appendToStream('s', [event(3)], { expectedRevision: ANY });
        expect(retriedAny.nextExpectedRevision).to.equal(2n);
        expect(double.memory.stream('s')).to.have.length(3);
        // …so does a repeat of an older append, while a partial repeat (a known first id followed
        // by a new one) is a conflict, as the server answers "corrupted idempotency".
        const retriedOlder = await client.appendToStream('s', [event(1), event(2)], {
          expectedRevision: ANY,
        });
        expect(retriedOlder.nextExpectedRevision).to.equal(1n);
        const partial = await rejection(
          client.appendToStream('s', [event(3), event(8)], { expectedRevision: ANY }),
        );
        expect(partial).to.be.instanceOf(WrongExpectedVersionError);
        expect((partial as WrongExpectedVersionError).actualVersion).to.equal(2n);
        expect(double.memory.stream('s')).to.have.length(3);
        // New ids at a stale revision are still a conflict.
        const error = await rejection(
          client.appendToStream('s', [event(9)], { expectedRevision: 1n }),
        );
        expect(error).to.be.instanceOf(WrongExpectedVersionError);
        expect(double.memory.all()).to.have.length(3);
      });
    });
  }

  describe('reads', () => {
    let results: AppendResult[];
    beforeEach(async () => {
      await fresh();
      // Interleaved: a-0, b-0, a-1, b-1, a-2, a-3, a-4.
      results = [];
      results.push(await client.appendToStream('a', [event(1)]));
      results.push(await client.appendToStream('b', [event(2)]));
      results.push(await client.appendToStream('a', [event(3)]));
      results.push(await client.appendToStream('b', [event(4)]));
      results.push(await client.appendToStream('a', [event(5), event(6), event(7)]));
    });

    it('a missing stream is StreamNotFoundError naming it', async () => {
      const error = await rejection(collect(client.readStream('missing')));
      expect(error).to.be.instanceOf(StreamNotFoundError);
      expect((error as StreamNotFoundError).streamName).to.equal('missing');
    });

    it('reads a stream forwards from a revision (inclusive) with maxCount', async () => {
      const read = await collect(client.readStream('a', { fromRevision: 2n, maxCount: 2 }));
      expect(revisions(read)).to.deep.equal([2n, 3n]);
      expect(ids(read)).to.deep.equal([uuid(5), uuid(6)]);
      const all = await collect(client.readStream('a', { direction: FORWARDS }));
      expect(all).to.have.length(5);
      const fromEnd = await collect(client.readStream('a', { fromRevision: END }));
      expect(fromEnd).to.have.length(0);
    });

    it('reads a stream backwards from END or a revision (inclusive) with maxCount', async () => {
      const fromEnd = await collect(
        client.readStream('a', { direction: BACKWARDS, fromRevision: END, maxCount: 3 }),
      );
      expect(revisions(fromEnd)).to.deep.equal([4n, 3n, 2n]);
      const fromOne = await collect(
        client.readStream('a', { direction: BACKWARDS, fromRevision: 1n }),
      );
      expect(revisions(fromOne)).to.deep.equal([1n, 0n]);
    });

    it('$all holds every event once, in append order, with strictly increasing positions', async () => {
      const all = await collect(client.readAll());
      expect(ids(all)).to.deep.equal([1, 2, 3, 4, 5, 6, 7].map(uuid));
      expect(all.map((e) => e.event?.streamId)).to.deep.equal(['a', 'b', 'a', 'b', 'a', 'a', 'a']);
      const positions = all.map((e) => e.event!.position!);
      for (const position of positions) expect(position.commit).to.equal(position.prepare);
      for (let i = 1; i < positions.length; i += 1) {
        expect(positions[i]!.commit > positions[i - 1]!.commit).to.equal(true);
      }
      // An append's result carries the position of its last event.
      expect(results.map((r) => r.position)).to.deep.equal(
        [0, 1, 2, 3, 6].map((i) => positions[i]),
      );
      const backwards = await collect(client.readAll({ direction: BACKWARDS, fromPosition: END }));
      expect(ids(backwards)).to.deep.equal([7, 6, 5, 4, 3, 2, 1].map(uuid));
    });

    it('readAll from a position: forwards includes it, backwards stops before it', async () => {
      const all = await collect(client.readAll());
      const third: Position = all[2]!.event!.position!;
      const forwards = await collect(client.readAll({ fromPosition: third, maxCount: 3 }));
      expect(ids(forwards)).to.deep.equal([3, 4, 5].map(uuid));
      const backwards = await collect(
        client.readAll({ fromPosition: third, direction: BACKWARDS, maxCount: 10 }),
      );
      expect(ids(backwards)).to.deep.equal([2, 1].map(uuid));
      expect(await collect(client.readAll({ fromPosition: END }))).to.have.length(0);
      expect(
        await collect(client.readAll({ fromPosition: START, direction: BACKWARDS })),
      ).to.have.length(0);
      expect(await collect(client.readAll({ maxCount: 4 }))).to.have.length(4);
    });
  });

  describe('subscriptions to $all', () => {
    beforeEach(() => fresh());

    it('catches up, then goes live, filtered, with no gap or duplicate at the seam and checkpoints', async () => {
      // History: 12 events, 8 of type Order*, 4 system events ($-prefixed) that the filter drops.
      for (let n = 1; n <= 12; n += 1) {
        const type = n % 3 === 0 ? '$system' : `Order${n % 2 === 0 ? 'Placed' : 'Paid'}`;
        await client.appendToStream(`order-${n % 4}`, [event(n, type)]);
      }
      const checkpoints: Position[] = [];
      const subscription = client.subscribeToAll({
        fromPosition: START,
        filter: eventTypeFilter({
          prefixes: ['Order'],
          maxSearchWindow: 2,
          checkpointInterval: 2,
          checkpointReached: (_subscription, position) => {
            checkpoints.push(position);
          },
        }),
      });
      const followed = following(subscription);
      const { received } = followed;
      await eventually(() => followed.caughtUpAfter >= 0);
      expect(followed.caughtUpAfter).to.equal(8);
      // Live: 6 more, written back to back, half of them while the subscription is mid-catch-up of
      // nothing (already live) — every matching one must arrive once, in order.
      for (let n = 13; n <= 18; n += 1) {
        const type = n % 3 === 0 ? '$system' : 'OrderShipped';
        await client.appendToStream(`order-${n % 4}`, [event(n, type)]);
      }
      await eventually(() => received.length >= 12);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const expected = [1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17].map(uuid);
      expect(ids(received)).to.deep.equal(expected);
      // 18 events scanned, a checkpoint every 2 * 2 = 4 of them (matching or not).
      expect(checkpoints).to.have.length(4);
      const all = double.memory.all();
      expect(checkpoints.map((p) => p.commit)).to.deep.equal(
        [3, 7, 11, 15].map((i) => all[i]!.position),
      );
      await subscription.unsubscribe();
    });

    it('starts after a position (exclusive); writes made during catch-up arrive once, in order', async () => {
      await client.dispose();
      await double.stop();
      // History is read in pages of 10; between pages 2 and 3, and 4 and 5, events are written.
      let pages = 0;
      await fresh({
        catchUpPageSize: 10,
        betweenCatchUpPages: () => {
          pages += 1;
          if (pages === 2 || pages === 4) {
            double.memory.append('t', { kind: 'any' }, [
              proposed(49 + pages),
              proposed(50 + pages),
            ]);
          }
        },
      });
      for (let n = 1; n <= 50; n += 1) await client.appendToStream('s', [event(n)]);
      const fifth = double.memory.all()[4]!;
      const checkpoints: bigint[] = [];
      const subscription = client.subscribeToAll({
        fromPosition: { commit: fifth.position, prepare: fifth.position },
        filter: excludeSystemEvents({
          checkpointReached: (_subscription, position) => {
            checkpoints.push(position.commit);
          },
        }),
      });
      const received: ResolvedEvent[] = [];
      let caughtUpAfter = -1;
      let checkpointsAtCaughtUp = -1;
      subscription.on('caughtUp', () => {
        caughtUpAfter = received.length;
        checkpointsAtCaughtUp = checkpoints.length;
      });
      subscription.on('data', (resolved: ResolvedEvent) => received.push(resolved));
      await eventually(() => caughtUpAfter >= 0);
      // 45 stored after the 5th, plus 4 written mid catch-up, all before caught_up.
      expect(caughtUpAfter).to.equal(49);
      expect(pages).to.be.greaterThanOrEqual(4);
      for (let n = 55; n <= 70; n += 1) await client.appendToStream('t', [event(n)]);
      await eventually(() => received.length >= 65);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ids(received)).to.deep.equal(Array.from({ length: 65 }, (_, i) => uuid(i + 6)));
      // Every 32 scanned (the default window), plus one when catch-up reached the head of $all.
      const all = double.memory.all();
      expect(checkpointsAtCaughtUp).to.equal(2);
      expect(checkpoints).to.deep.equal([36, 53, 68].map((i) => all[i]!.position));
      await subscription.unsubscribe();
    });

    it('excludeSystemEvents and stream name filters select what the server sends', async () => {
      await client.appendToStream('$$order-1', [event(1, '$metadata')]);
      await client.appendToStream('order-1', [event(2)]);
      await client.appendToStream('invoice-1', [event(3)]);
      await client.appendToStream('order-2', [event(4)]);
      const firstN = async (filter: Parameters<typeof client.subscribeToAll>[0], n: number) => {
        const subscription = client.subscribeToAll(filter);
        const followed = following(subscription);
        await eventually(() => followed.caughtUpAfter >= 0);
        await subscription.unsubscribe();
        expect(followed.received).to.have.length(n);
        return ids(followed.received);
      };
      expect(await firstN({ filter: excludeSystemEvents() }, 3)).to.deep.equal([2, 3, 4].map(uuid));
      expect(await firstN({ filter: streamNameFilter({ prefixes: ['order-'] }) }, 2)).to.deep.equal(
        [2, 4].map(uuid),
      );
      expect(await firstN({ filter: streamNameFilter({ regex: '^invoice-' }) }, 1)).to.deep.equal([
        uuid(3),
      ]);
      expect(await firstN({}, 4)).to.deep.equal([1, 2, 3, 4].map(uuid));
    });

    it('from END only sees live events; unsubscribe ends the subscription on the server', async () => {
      await client.appendToStream('s', [event(1)]);
      const subscription = client.subscribeToAll({ fromPosition: END });
      const received: ResolvedEvent[] = [];
      let confirmed = false;
      subscription.on('confirmation', () => {
        confirmed = true;
      });
      subscription.on('data', (resolved: ResolvedEvent) => received.push(resolved));
      await eventually(() => confirmed && double.openSubscriptions() === 1);
      await client.appendToStream('s', [event(2)]);
      await eventually(() => received.length === 1);
      expect(ids(received)).to.deep.equal([uuid(2)]);
      await subscription.unsubscribe();
      await eventually(() => double.openSubscriptions() === 0);
      await client.appendToStream('s', [event(3)]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).to.have.length(1);
    });
  });

  describe('subscriptions to a stream', () => {
    beforeEach(() => fresh());

    it('starts after a revision (exclusive), then delivers only that stream live', async () => {
      await client.appendToStream('s', [event(1), event(2), event(3)]);
      await client.appendToStream('other', [event(4)]);
      const subscription = client.subscribeToStream('s', { fromRevision: 0n });
      const followed = following(subscription);
      const { received } = followed;
      await eventually(() => followed.caughtUpAfter >= 0);
      expect(revisions(received)).to.deep.equal([1n, 2n]);
      await client.appendToStream('other', [event(5)]);
      await client.appendToStream('s', [event(6)]);
      await eventually(() => received.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ids(received)).to.deep.equal([uuid(2), uuid(3), uuid(6)]);
      expect(revisions(received)).to.deep.equal([1n, 2n, 3n]);
      await subscription.unsubscribe();
    });
  });

  describe('unreachable and back, errors', () => {
    it('stop() makes it unreachable, start() brings it back on the same port with its data', async () => {
      await fresh();
      await client.appendToStream('s', [event(1)], { expectedRevision: NO_STREAM });
      const port = double.port;
      await double.stop();
      expect(double.isRunning()).to.equal(false);
      // The BatchAppend call that was open is cut (CANCELLED, mapped to CancelledError); later
      // appends fail on the ServerFeatures fetch, which the client rethrows as the raw gRPC error
      // (code 14 UNAVAILABLE, not an UnavailableError instance).
      const codes: number[] = [];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const error = (await rejection(client.appendToStream('s', [event(2)]))) as {
          code?: number;
        };
        codes.push(error.code ?? -1);
      }
      expect(codes.at(-1)).to.equal(14);
      expect(codes.every((code) => code === 1 || code === 14)).to.equal(true);
      const readError = await rejection(collect(client.readStream('s')));
      expect(readError).to.be.instanceOf(UnavailableError);
      await double.start();
      expect(double.port).to.equal(port);
      // The client reconnects on the next call after an UNAVAILABLE; allow a few attempts.
      let result: AppendResult | undefined;
      for (let attempt = 0; attempt < 20 && !result; attempt += 1) {
        try {
          result = await client.appendToStream('s', [event(2)], { expectedRevision: 0n });
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(result?.nextExpectedRevision).to.equal(1n);
      expect(ids(await collect(client.readStream('s')))).to.deep.equal([uuid(1), uuid(2)]);
    });

    it('stop() ends open subscriptions with an error the subscriber sees', async () => {
      await fresh();
      await client.appendToStream('s', [event(1)]);
      const subscription = client.subscribeToAll({ fromPosition: START });
      let caughtUp = false;
      subscription.on('caughtUp', () => {
        caughtUp = true;
      });
      subscription.on('data', () => {});
      const failed = new Promise<{ code?: number }>((resolve) => {
        subscription.on('error', (error: Error) => resolve(error as { code?: number }));
      });
      await eventually(() => caughtUp && double.openSubscriptions() === 1);
      await double.stop();
      const error = await failed;
      expect([1, 14]).to.include(error.code);
      expect(double.openSubscriptions()).to.equal(0);
    });

    it('a BatchAppend whose deadline has passed is DeadlineExceededError and writes nothing', async () => {
      await fresh({ now: () => new Date(Date.now() + 3_600_000) });
      const error = await rejection(client.appendToStream('s', [event(1)]));
      expect(error).to.be.instanceOf(DeadlineExceededError);
      expect(double.memory.all()).to.have.length(0);
    });

    it('answers UNIMPLEMENTED for what it does not serve (delete, tombstone, projections)', async () => {
      await fresh();
      await client.appendToStream('s', [event(1)]);
      for (const call of [
        () => client.deleteStream('s'),
        () => client.tombstoneStream('s'),
        () => client.getProjectionStatus('by-category'),
      ]) {
        const error = (await rejection(call())) as { code?: number };
        expect(error.code).to.equal(12);
      }
      expect(double.memory.stream('s')).to.have.length(1);
    });
  });
});
