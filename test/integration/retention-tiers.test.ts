/**
 * Retention and stitched reads (DESIGN.md §9) on a real Redis with the in-memory archive: the log
 * is trimmed only below what is archived, projected and old enough; entity streams below their
 * newest snapshot; versions stay right without XLEN; readAll, readStream and subscribeAll return
 * every event once, in order, across the seam, also while trimming runs.
 */
import { expect } from 'chai';
import type { EventArchive } from '../../src/archive/event-archive.js';
import { MemoryEventArchive } from '../../src/archive/memory-event-archive.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';
import type { RecordedEvent } from '../../src/events/envelope.js';
import { START } from '../../src/events/event-store.js';
import type { TierSettings } from '../../src/events/log-tiers.js';
import { PartitionedEventStore } from '../../src/events/partitioned-event-store.js';
import { type SnapshotVersions, Trimmer, type TrimmerOptions } from '../../src/events/trimmer.js';
import {
  ConcurrencyError,
  DEFAULT_STORE_SETTINGS,
  type EventStore,
  type Keys,
  keysFor,
  partitioningFor,
  type RedisClient,
  RedisEventStore,
  silentLogger,
} from '../../src/index.js';
import { createTestDatabase, describeWithPostgres } from '../support/postgres.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

const PROJECTION = 'trainers';

/** Copies the log into the archive up to `upTo` events in all (the archiver's job, here by hand). */
async function archive(
  store: EventStore,
  to: EventArchive,
  upTo = Infinity,
  partition?: number,
): Promise<void> {
  const p = partition ?? 0;
  const bare = (position: string) => position.slice(position.indexOf(':') + 1);
  const client = (id: string) => (partition === undefined ? id : `${p}:${id}`);
  let after = await to.archivedUpTo(p);
  let archived = (await to.readLog(p, '0-0', 100_000)).length;
  while (archived < upTo) {
    const page = await store.readAll({
      after: after === '0-0' ? START : client(after),
      limit: 1000,
    });
    const events = page.events.slice(0, upTo - archived);
    if (events.length === 0) return;
    await to.write(
      p,
      1,
      events.map((event) => {
        const entryId = bare(event.globalPosition);
        return { partition: p, entryId, event: { ...event, globalPosition: entryId } };
      }),
    );
    archived += events.length;
    after = bare(events.at(-1)!.globalPosition);
  }
}

async function readWholeLog(store: EventStore, limit: number): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit });
    events.push(...page.events);
    after = page.nextPosition;
    if (page.isEnd) return events;
  }
}

async function readWholeStream(
  store: EventStore,
  streamId: string,
  limit: number,
  direction: 'forward' | 'backward',
): Promise<number[]> {
  const versions: number[] = [];
  let fromVersion: number | undefined;
  for (;;) {
    const page = await store.readStream(streamId, {
      limit,
      direction,
      ...(fromVersion === undefined ? {} : { fromVersion }),
    });
    versions.push(...page.events.map((e) => e.version));
    fromVersion = page.nextVersion;
    if (page.isEnd || (direction === 'backward' && fromVersion === 0)) return versions;
  }
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** An archive for one test, and how to drop it. */
interface OpenedArchive {
  readonly archive: EventArchive;
  drop(): Promise<void>;
}

function describeTiers(label: string, open: () => Promise<OpenedArchive>): void {
  describe(`retention and stitched reads (Redis + ${label} archive)`, () => {
    let redis: RedisClient;
    let prefix: string;
    let keys: Keys;
    let vault: EventArchive;
    let opened: OpenedArchive;
    let store: RedisEventStore;
    const snapshots = new Map<string, number>();
    const snapshotVersions: SnapshotVersions = {
      newestSnapshotVersion: async (streamId) => snapshots.get(streamId) ?? 0,
    };
    /** Every append's events, in log order. */
    let appended: RecordedEvent[];

    function storeWith(tiers: TierSettings): RedisEventStore {
      return new RedisEventStore(redis, keys, {
        ...DEFAULT_STORE_SETTINGS,
        serverId: 'test-server',
        tiers,
      });
    }

    function trimmer(options: Partial<TrimmerOptions> = {}): Trimmer {
      return new Trimmer({
        redis,
        keys,
        partition: 0,
        archive: vault,
        projections: [PROJECTION],
        snapshots: snapshotVersions,
        logger: silentLogger,
        ...options,
      });
    }

    async function move(streamId: string, n = 1): Promise<void> {
      for (let i = 0; i < n; i += 1) {
        const result = await store.append(streamId, [{ type: 'Moved', data: { i } }]);
        if (result.duplicate) throw new Error('unexpected duplicate');
        appended.push(...result.events);
      }
    }

    /** Projection `trainers` has folded the log up to its newest entry. */
    async function projectAll(): Promise<void> {
      await redis.hset(keys.projection(PROJECTION), 'checkpoint', await store.head());
    }

    const logLength = () => redis.xlen(keys.all);
    const redisVersions = async (streamId: string) =>
      ((await redis.xrange(keys.stream(streamId), '-', '+')) as [string, string[]][]).map((e) =>
        Number(e[0].slice(2)),
      );

    before(() => {
      redis = testClient();
    });
    after(() => redis.disconnect());
    beforeEach(async () => {
      prefix = uniquePrefix('tiers');
      keys = keysFor(prefix);
      opened = await open();
      vault = opened.archive;
      snapshots.clear();
      store = storeWith({ archive: vault, partition: 0 });
      appended = [];
    });
    afterEach(async () => {
      await store.close();
      await clearPrefix(redis, prefix);
      await opened.drop();
    });

    it('trims the log only below what is archived, and nothing once the archiver stops', async () => {
      await move('trainer-a', 20);
      await move('trainer-b', 10);
      await projectAll();
      await archive(store, vault, 12);
      const first = await trimmer().trim();
      expect(first.logEntries).to.equal(12);
      expect(await logLength()).to.equal(18);
      expect(first.upTo).to.equal(appended[11]!.globalPosition);
      // the archiver stopped: more events, more trims, nothing unarchived goes
      await move('trainer-b', 5);
      await projectAll();
      for (let i = 0; i < 3; i += 1) expect((await trimmer().trim()).logEntries).to.equal(0);
      expect(await logLength()).to.equal(23);
      const inRedis = new Set(
        ((await redis.xrange(keys.all, '-', '+')) as [string, string[]][]).map((e) => e[0]),
      );
      const archived = new Set((await vault.readLog(0, '0-0', 1000)).map((a) => a.entryId));
      for (const event of appended) {
        const where = [inRedis.has(event.globalPosition), archived.has(event.globalPosition)];
        expect(where, `${event.globalPosition} is in Redis or archived`).to.not.deep.equal([
          false,
          false,
        ]);
      }
    });

    it("is bounded by every projection's checkpoint, by retention, and keeps the newest entry", async () => {
      await move('trainer-a', 10);
      await archive(store, vault);
      // a projection that never ran blocks trimming altogether
      expect((await trimmer().trim()).logEntries).to.equal(0);
      await redis.hset(keys.projection(PROJECTION), 'checkpoint', appended[3]!.globalPosition);
      expect((await trimmer().trim()).logEntries).to.equal(4);
      // an hour of retention: these events are all younger
      await projectAll();
      expect((await trimmer({ retentionMs: 3_600_000 }).trim()).logEntries).to.equal(0);
      // everything archived and projected: all but the newest entry go
      expect((await trimmer().trim()).logEntries).to.equal(5);
      expect(await logLength()).to.equal(1);
      expect(await store.head()).to.equal(appended.at(-1)!.globalPosition);
    });

    it('trims an entity stream below its newest snapshot, and versions stay right without XLEN', async () => {
      await move('trainer-a', 30);
      await move('trainer-b', 3);
      snapshots.set('trainer-a', 20);
      await archive(store, vault);
      await projectAll();
      const trimmed = await trimmer().trim();
      expect(trimmed.logEntries).to.equal(32);
      expect(trimmed.streamEntries).to.equal(19); // trainer-a below 20; trainer-b has no snapshot
      expect(await redisVersions('trainer-a')).to.deep.equal(range(20, 30));
      expect(await redisVersions('trainer-b')).to.deep.equal([1, 2, 3]);
      // the append script finds version 30 though the stream holds 11 entries
      const next = await store.append('trainer-a', [{ type: 'Moved', data: {} }], {
        expectedVersion: 30,
      });
      expect(next.duplicate ? 0 : next.firstVersion).to.equal(31);
      let conflict: unknown;
      await store
        .append('trainer-a', [{ type: 'Moved', data: {} }], { expectedVersion: 11 })
        .catch((error: unknown) => {
          conflict = error;
        });
      expect(conflict).to.be.instanceOf(ConcurrencyError);
      expect((conflict as ConcurrencyError).actualVersion).to.equal(31);
    });

    it('never trims an entity stream past its trimmed log entries, nor its newest entry', async () => {
      await move('trainer-a', 10);
      snapshots.set('trainer-a', 99); // a wrong snapshot, beyond the stream
      await archive(store, vault, 6);
      await projectAll();
      await trimmer().trim();
      expect(await redisVersions('trainer-a')).to.deep.equal(range(6, 10));
      await archive(store, vault);
      await trimmer().trim();
      expect(await redisVersions('trainer-a')).to.deep.equal([9, 10]);
    });

    it('readAll from the start returns every event once, in order, across the seam', async () => {
      await move('trainer-a', 25);
      await move('trainer-b', 25);
      await archive(store, vault, 33);
      await projectAll();
      await trimmer().trim();
      expect(await logLength()).to.equal(17);
      const ids = appended.map((e) => e.globalPosition);
      for (const limit of [1, 7, 33, 1000]) {
        const read = await readWholeLog(store, limit);
        expect(
          read.map((e) => e.globalPosition),
          `limit ${limit}`,
        ).to.deep.equal(ids);
        expect(read.map((e) => e.data)).to.deep.equal(appended.map((e) => e.data));
      }
      const fromMiddle = await store.readAll({ after: appended[9]!.globalPosition, limit: 30 });
      expect(fromMiddle.events.map((e) => e.globalPosition)).to.deep.equal(ids.slice(10, 40));
      const typed = await store.readAll({ types: ['Moved'], limit: 1000 });
      expect(typed.events).to.have.length(50);
      expect((await store.readAll({ types: ['Other'], limit: 1000 })).events).to.have.length(0);
    });

    it('readStream forwards and backwards crosses the seam without gap or duplicate', async () => {
      await move('trainer-a', 40);
      snapshots.set('trainer-a', 31);
      await archive(store, vault);
      await projectAll();
      await trimmer().trim();
      expect(await redisVersions('trainer-a')).to.deep.equal(range(31, 40));
      for (const limit of [1, 3, 30, 100]) {
        expect(await readWholeStream(store, 'trainer-a', limit, 'forward')).to.deep.equal(
          range(1, 40),
        );
        expect(await readWholeStream(store, 'trainer-a', limit, 'backward')).to.deep.equal(
          range(1, 40).reverse(),
        );
      }
      const page = await store.readStream('trainer-a', { fromVersion: 29, limit: 4 });
      expect(page.events.map((e) => e.version)).to.deep.equal([29, 30, 31, 32]);
      expect(page.events.map((e) => e.globalPosition)).to.deep.equal(
        appended.slice(28, 32).map((e) => e.globalPosition),
      );
    });

    it('subscribeAll from the start hands over the archive, then Redis, then live events', async () => {
      await move('trainer-a', 30);
      await archive(store, vault, 20);
      await projectAll();
      await trimmer().trim();
      const seen: string[] = [];
      const sub = store.subscribeAll({ after: START, batchSize: 7 }, (events) => {
        seen.push(...events.map((e) => e.globalPosition));
      });
      await move('trainer-b', 5);
      const deadline = Date.now() + 10_000;
      while (seen.length < 35 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await sub.close();
      expect(seen).to.deep.equal(appended.map((e) => e.globalPosition));
    });

    it('reads stay whole while appends, archiving and trimming run', async () => {
      let running = true;
      let trims = 0;
      const writer = (async () => {
        for (let i = 0; i < 400; i += 1) await move(`trainer-${i % 7}`);
      })();
      const tiering = (async () => {
        while (running) {
          await archive(store, vault);
          await projectAll();
          trims += (await trimmer().trim()).logEntries;
        }
      })();
      const passes: string[][] = [];
      const readers = (async () => {
        while (running) passes.push((await readWholeLog(store, 13)).map((e) => e.globalPosition));
      })();
      await writer;
      running = false;
      await Promise.all([tiering, readers]);
      const all = appended.map((e) => e.globalPosition);
      console.log(`      ${passes.length} whole reads while ${trims} entries were trimmed`);
      expect(trims).to.be.greaterThan(0);
      expect(passes.length).to.be.greaterThan(0);
      for (const pass of passes) expect(pass).to.deep.equal(all.slice(0, pass.length));
    });

    it('log entries refer to the entity stream; entries that hold their event (older data) still read', async () => {
      await move('trainer-a', 2);
      const [entry] = (await redis.xrange(keys.all, '-', '+', 'COUNT', 1)) as [string, string[]][];
      expect(entry![1]).to.deep.equal(['stream', 'trainer-a', 'version', '1', 'type', 'Moved']);
      const old = appended[0]!;
      const oldId = await redis.xadd(
        keys.all,
        '*',
        'stream',
        'trainer-old',
        'version',
        '1',
        'id',
        old.id,
        'type',
        'Moved',
        'schema',
        '1',
        'data',
        '{"old":true}',
        'meta',
        JSON.stringify(old.metadata),
      );
      const read = await readWholeLog(store, 100);
      expect(read.map((e) => [e.streamId, e.version, e.globalPosition])).to.deep.equal([
        ['trainer-a', 1, appended[0]!.globalPosition],
        ['trainer-a', 2, appended[1]!.globalPosition],
        ['trainer-old', 1, oldId],
      ]);
      expect(read.map((e) => e.data)).to.deep.equal([{ i: 0 }, { i: 1 }, { old: true }]);
      expect(read[0]!.metadata).to.deep.equal(appended[0]!.metadata);
      // an entity entry deleted by hand is an error naming it, never a silent gap
      await redis.del(keys.stream('trainer-a'));
      const plain = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 's' });
      const failed = await plain.readAll({}).catch((error: unknown) => error);
      expect(String(failed)).to.match(/refers to trainer-a version 1, which its entity stream/);
    });

    it('with partitions, each partition trims and stitches on its own; the merged log reads whole', async () => {
      const partitioning = partitioningFor(prefix, 2);
      const stores = partitioning.keys.map(
        (partitionKeys, partition) =>
          new RedisEventStore(redis, partitionKeys, {
            ...DEFAULT_STORE_SETTINGS,
            serverId: 'test-server',
            partition,
            tiers: { archive: vault, partition },
          }),
      );
      const merged = new PartitionedEventStore(stores, partitioning.of, DEFAULT_STORE_SETTINGS);
      const written: RecordedEvent[] = [];
      for (let i = 0; i < 60; i += 1) {
        const result = await merged.append(`trainer-${i % 9}`, [{ type: 'Moved', data: { i } }]);
        if (!result.duplicate) written.push(...result.events);
      }
      let trimmed = 0;
      for (const [p, partitionKeys] of partitioning.keys.entries()) {
        await archive(stores[p]!, vault, 20, p);
        await redis.hset(
          partitionKeys.projection(PROJECTION),
          'checkpoint',
          await stores[p]!.head(),
        );
        trimmed += (await trimmer({ keys: partitionKeys, partition: p }).trim()).logEntries;
      }
      expect(trimmed).to.equal(40);
      const read = await readWholeLog(merged, 11);
      expect(read.map((e) => e.globalPosition).sort()).to.deep.equal(
        written.map((e) => e.globalPosition).sort(),
      );
      for (const p of [0, 1]) {
        const own = (events: RecordedEvent[]) =>
          events.map((e) => e.globalPosition).filter((g) => g.startsWith(`${p}:`));
        expect(own(read), `partition ${p} in order`).to.deep.equal(own(written));
      }
      await merged.close();
    });

    it('without an archive, LOG_RETENTION_MS alone trims old history for good', async () => {
      await move('trainer-a', 10);
      await new Promise((r) => setTimeout(r, 1100));
      await move('trainer-a', 2);
      await projectAll();
      // with an archive that holds nothing yet, retention alone trims nothing
      expect((await trimmer({ retentionMs: 1000 }).trim()).logEntries).to.equal(0);
      const trimmed = await trimmer({ archive: undefined, retentionMs: 1000 }).trim();
      expect(trimmed.logEntries).to.equal(10);
      const alone = storeWith({ partition: 0 });
      const read = await readWholeLog(alone, 5);
      expect(read.map((e) => e.globalPosition)).to.deep.equal(
        appended.slice(10).map((e) => e.globalPosition),
      );
      expect(() => trimmer({ archive: undefined })).to.throw(/ARCHIVE_URL|LOG_RETENTION_MS/);
      await alone.close();
    });
  });
}

describeWithRedis('retention and stitched reads', () => {
  describeTiers('memory', async () => ({
    archive: new MemoryEventArchive(),
    drop: async () => {},
  }));
  describeWithPostgres('on PostgreSQL', () => {
    describeTiers('PostgreSQL', async () => {
      const db = await createTestDatabase('tiers');
      const archive = new PostgresEventArchive({ url: db.url });
      return {
        archive,
        drop: async () => {
          await archive.close();
          await db.drop();
        },
      };
    });
  });
});
