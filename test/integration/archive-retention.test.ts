import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { ARCHIVE_LEASE } from '../../src/archive/archiver.js';
import {
  type ArchivedEvent,
  compareEntryIds,
  type EventArchive,
} from '../../src/archive/event-archive.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';
import { RpcClient } from '../../src/client/index.js';
import {
  foldInMemory,
  isSound,
  keysFor,
  type RecordedEvent,
  trainerPositions,
} from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { type MoveLoad, startMoves } from '../support/moves.js';
import {
  createTestDatabase,
  type PostgresServer,
  postgresBinary,
  skipWhenMissing,
  startPostgresServer,
  type TestDatabase,
} from '../support/postgres.js';
import { listTrainers, waitCaughtUp } from '../support/projections.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

const MOVES = Number(process.env.ARCHIVE_RETENTION_MOVES ?? 20_000);
const TRAINERS = 50;
const SNAPSHOT_EVERY = 100;
const RETENTION_MS = 2000;
const PROJECTION = 'trainer-positions';
const admin = { 'X-User-Id': 'oak', 'X-User-Roles': 'admin' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Issue 15 across processes: three instances on one Redis archive their log to PostgreSQL (a
 * private server the test restarts), snapshot every 100 events and trim Redis to a short tail,
 * while the archiver's leader is SIGKILLed and PostgreSQL restarts; every read tier-stitches.
 */
describeWithRedis('archive, snapshots and retention across instances', function () {
  this.timeout(900_000);
  let postgres: PostgresServer;
  let database: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let secret: string;
  let cluster: Cluster | undefined;

  before(async function () {
    skipWhenMissing(
      this,
      'archive-retention',
      postgresBinary('initdb') && postgresBinary('postgres')
        ? undefined
        : 'initdb is not installed (install it: apt-get install postgresql)',
    );
    postgres = await startPostgresServer();
    redis = testClient();
  });
  after(async () => {
    redis?.disconnect();
    await postgres?.destroy();
  });
  beforeEach(async () => {
    prefix = uniquePrefix('ar');
    secret = randomBytes(32).toString('base64');
    database = await createTestDatabase('ar', postgres.url);
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
    await postgres.start(); // a failed test may leave it stopped
    await clearPrefix(redis, prefix);
    await database.drop();
  });

  const keys = () => keysFor(prefix);
  const env = () => ({
    REDIS_URL: testRedisUrl(),
    SECRET_KEY: secret,
    KEY_PREFIX: prefix,
    ARCHIVE_URL: database.url,
    SNAPSHOT_EVERY: String(SNAPSHOT_EVERY),
    LOG_RETENTION_MS: String(RETENTION_MS),
    ARCHIVE_BATCH: '500',
    LEASE_TTL_MS: '1000',
    COMMAND_CLAIM_IDLE_MS: '1000',
    LOG_LEVEL: 'info',
  });
  const startCluster = async () => {
    cluster = new Cluster((slot, generation) => ({ ...env(), SERVER_ID: `${slot}-${generation}` }));
    await cluster.start(['a', 'b', 'c']);
    return cluster;
  };
  const openArchive = (): EventArchive => new PostgresEventArchive({ url: database.url });

  /** The slot (instance name) holding the archiver's lease of partition 0, if any. */
  const archiverLeader = async () => (await redis.get(keys().lease(ARCHIVE_LEASE)))?.split('-')[0];

  /** The log's newest entry id and how many entries it ever had. */
  const logFacts = async () => {
    const info = (await redis.call('XINFO', 'STREAM', keys().all)) as unknown[];
    const field = (name: string) => String(info[info.indexOf(name) + 1]);
    return {
      last: field('last-generated-id'),
      added: Number(field('entries-added')),
      length: Number(field('length')),
    };
  };

  const waitArchived = async (archive: EventArchive, timeoutMs = 60_000) => {
    const { last } = await logFacts();
    const deadline = Date.now() + timeoutMs;
    while ((await archive.archivedUpTo(0)) !== last) {
      if (Date.now() > deadline) {
        throw new Error(`archive at ${await archive.archivedUpTo(0)}, log ends at ${last}`);
      }
      await sleep(200);
    }
  };

  /** Waits for `load` to have `n` answers (or to end). */
  const answered = async (load: MoveLoad & { done: Promise<void> }, n: number) => {
    let ended = false;
    void load.done.then(() => {
      ended = true;
    });
    while (!ended && load.answers.length < n) await sleep(100);
  };

  /**
   * Changes the state of `trainer`'s snapshot (checksum kept), restarts every instance (empty
   * caches) and moves it: the move must be decided on the events (read back from the archive, the
   * stream being trimmed below the snapshot), and the snapshot rewritten sound.
   */
  const corruptSnapshotAndMove = async (trainer: string, running: Cluster) => {
    const streamId = `trainer-${trainer}`;
    const key = keys().snapshot(streamId);
    const before = await redis.hgetall(key);
    expect(Number(before.v), `${streamId} has a snapshot`).to.be.greaterThan(0);
    const state = JSON.parse(before.d!) as Record<string, unknown>;
    await redis.hset(key, 'd', JSON.stringify({ ...state, x: 999_999, y: -999_999 }));
    await running.stop();
    const fresh = await startCluster();
    const client = new RpcClient({ url: fresh.liveUrls()[0]!, headers: { 'X-User-Id': trainer } });
    const [last] = await readStreamBackward(fresh.liveUrls()[0]!, streamId);
    const moved = await client.call<{ version: number }>('trainer.move', {
      action: 'start',
      directionX: 1,
      directionY: 0,
    });
    expect(moved.version, 'the move after the corrupted snapshot').to.equal(last!.version + 1);
    const after = await redis.hgetall(key);
    const sound = isSound({
      version: Number(after.v),
      schema: String(after.s),
      checksum: String(after.c),
      state: String(after.d),
    });
    expect(sound, `${streamId}'s snapshot rewritten sound`).to.equal(true);
    expect(Number(after.v), 'rewritten at the version it was rebuilt at').to.equal(last!.version);
    const rebuiltState = JSON.parse(after.d!) as Record<string, unknown>;
    expect(rebuiltState, 'the rebuilt state').to.not.deep.include({ x: 999_999, y: -999_999 });
    // at the same version as the corrupted one, the rebuilt state is what it held before
    if (Number(after.v) === Number(before.v)) expect(rebuiltState).to.deep.equal(state);
    const warnings = fresh.count(new RegExp(`snapshot of ${streamId} not trusted`));
    expect(warnings, 'the corrupted snapshot was detected').to.equal(1);
    return { snapshotVersion: Number(before.v), warnings };
  };

  it('archives every event once in log order through leader SIGKILLs and a PostgreSQL restart; Redis keeps the tail; reads, replay and snapshots hold', async () => {
    const running = await startCluster();
    const load = startMoves({
      urls: () => running.liveUrls(),
      trainers: TRAINERS,
      inFlight: 32,
      limit: MOVES,
    });
    let kills = 0;
    let restarts = 0;
    const killLeader = async () => {
      for (let tries = 0; tries < 100; tries++) {
        const slot = await archiverLeader();
        const alive = running.slots.find((s) => s.name === slot)?.current;
        if (slot && alive) {
          await running.crash(slot);
          kills += 1;
          return;
        }
        await sleep(100);
      }
    };
    await answered(load, MOVES * 0.15);
    await killLeader();
    await answered(load, MOVES * 0.4);
    await postgres.stop('immediate');
    await sleep(1500);
    await postgres.start();
    restarts += 1;
    await answered(load, MOVES * 0.65);
    await killLeader();
    await load.done;

    const archive = openArchive();
    try {
      await waitArchived(archive);
      await waitCaughtUp(redis, prefix, PROJECTION, 60_000);
      const archived = await readWholeArchive(archive);
      const facts = await logFacts();
      const positions = load.answers.map((a) => a.globalPosition).sort(compareEntryIds);

      // every event exactly once, in log order
      expect(facts.added, 'events logged = moves answered').to.equal(load.answers.length);
      expect(archived.map((e) => e.entryId)).to.deep.equal(positions);
      expectVersionsInOrder(archived.map((e) => e.event));

      // Redis keeps only the tail: once the retention has passed, the log is a short suffix
      const tail = await waitTrimmed(redis, keys().all, facts.added);
      const tailIds = tail.map(([id]) => id);
      expect(tailIds, 'the Redis log is the archive’s last entries').to.deep.equal(
        positions.slice(positions.length - tailIds.length),
      );
      const streamLengths = await Promise.all(
        Array.from({ length: TRAINERS }, (_, t) => redis.xlen(keys().stream(`trainer-t${t}`))),
      );
      const streamEntries = streamLengths.reduce((a, b) => a + b, 0);
      for (const [t, n] of streamLengths.entries()) {
        expect(n, `entries of trainer-t${t} in Redis`).to.be.at.most(SNAPSHOT_EVERY);
      }

      // reads stitch PostgreSQL and Redis: no gap, no duplicate
      const url = running.liveUrls()[0]!;
      const all = await readAllOverRpc(url);
      expect(all.map((e) => e.globalPosition)).to.deep.equal(positions);
      const t7 = await readStreamOverRpc(url, 'trainer-t7');
      const t7Answers = load.answers.filter((a) => a.trainerId === 't7');
      expect(t7.map((e) => e.version)).to.deep.equal(t7Answers.map((_, i) => i + 1));
      expect(t7.map((e) => e.globalPosition)).to.deep.equal(
        t7Answers.map((a) => a.globalPosition).sort(compareEntryIds),
      );

      // the live read model = a fold of the whole history = npm run replay from the start
      const live = await listTrainers(url);
      const folded = foldInMemory(trainerPositions, all);
      expect(live).to.deep.equal([...folded.keys()].sort().map((id) => folded.get(id)!));
      const replay = await runReplay({ ...env(), SERVER_ID: 'replay' });
      expect(replay.code, replay.output).to.equal(0);
      await waitCaughtUp(redis, prefix, PROJECTION, 60_000);
      expect(await listTrainers(url), 'after npm run replay').to.deep.equal(live);

      const rebuilt = await corruptSnapshotAndMove('t3', running);

      process.stdout.write(
        `      moves ${load.answers.length} (client retries ${load.retries}), archiver leader SIGKILLs ${kills}, PostgreSQL restarts ${restarts}; archived ${archived.length}; Redis log ${tail.length} of ${facts.added}, entity streams ${streamEntries} entries; readAll ${all.length}, trainer-t7 ${t7.length}; corrupted snapshot of trainer-t3 at version ${rebuilt.snapshotVersion} rebuilt (${rebuilt.warnings} warning)\n`,
      );
      expect(kills, 'archiver leaders killed').to.equal(2);
      expect(restarts).to.equal(1);
    } finally {
      await archive.close();
    }
  });

  it('trims nothing it has not archived while the archiver is stopped (PostgreSQL down)', async () => {
    const running = await startCluster();
    const load = startMoves({ urls: () => running.liveUrls(), trainers: TRAINERS, inFlight: 16 });
    await answered(load, 2000);
    // the trimmer runs: it has removed archived entries (the load goes on, so not down to a tail)
    for (const deadline = Date.now() + 60_000; ; await sleep(200)) {
      const facts = await logFacts();
      if (facts.added > facts.length) break;
      if (Date.now() > deadline) throw new Error(`nothing trimmed of ${facts.added} entries`);
    }
    await postgres.stop('immediate');
    const atStop = load.answers.length;
    await sleep(3 * RETENTION_MS + 3000);
    await load.stop();
    await sleep(RETENTION_MS + 2000); // everything is past the retention now
    await running.stop();
    cluster = undefined;
    await postgres.start();

    const archive = openArchive();
    try {
      const upTo = await archive.archivedUpTo(0);
      const facts = await logFacts();
      const unarchived = load.answers
        .map((a) => a.globalPosition)
        .filter((p) => compareEntryIds(p, upTo) > 0)
        .sort(compareEntryIds);
      const kept = (await redis.xrange(keys().all, `(${upTo}`, '+')).map(([id]) => id);
      const trimmed = facts.added - facts.length;
      process.stdout.write(
        `      moves ${load.answers.length} (${load.answers.length - atStop} while PostgreSQL was down); archived up to ${upTo}; unarchived ${unarchived.length}, all in Redis: ${kept.length}; trimmed ${trimmed} (all archived)\n`,
      );
      expect(unarchived.length, 'moves the archiver could not archive').to.be.greaterThan(0);
      expect(kept, 'every unarchived event is still in Redis').to.deep.equal(unarchived);
      expect(trimmed, 'the trimmer trimmed archived events').to.be.greaterThan(0);
    } finally {
      await archive.close();
    }
  });
});

/** Every archived event of partition 0, in archive order. */
async function readWholeArchive(archive: EventArchive): Promise<ArchivedEvent[]> {
  const events: ArchivedEvent[] = [];
  let after = '0-0';
  for (;;) {
    const page = await archive.readLog(0, after, 2000);
    if (page.length === 0) return events;
    events.push(...page);
    after = page.at(-1)!.entryId;
  }
}

/** Each stream's versions are 1, 2, 3… in log order. */
function expectVersionsInOrder(events: readonly RecordedEvent[]): void {
  const next = new Map<string, number>();
  for (const e of events) {
    const expected = (next.get(e.streamId) ?? 0) + 1;
    expect(e.version, `${e.streamId} at ${e.globalPosition}`).to.equal(expected);
    next.set(e.streamId, expected);
  }
}

/** Waits until the log has fewer than a tenth of its `added` entries; returns what is left. */
async function waitTrimmed(
  redis: Redis,
  key: string,
  added: number,
): Promise<[string, string[]][]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const length = await redis.xlen(key);
    if (length < added / 10) return redis.xrange(key, '-', '+');
    if (Date.now() > deadline) throw new Error(`log not trimmed: ${length} of ${added} entries`);
    await sleep(200);
  }
}

async function readStreamBackward(url: string, streamId: string): Promise<RecordedEvent[]> {
  const client = new RpcClient({ url, headers: admin });
  const page: { events: RecordedEvent[] } = await client.call('events.read', {
    streamId,
    direction: 'backward',
    limit: 1,
  });
  return page.events;
}

async function readAllOverRpc(url: string): Promise<RecordedEvent[]> {
  const client = new RpcClient({ url, headers: admin });
  const events: RecordedEvent[] = [];
  let afterPosition = '0';
  for (;;) {
    const page: { events: RecordedEvent[]; nextPosition: string; isEnd: boolean } =
      await client.call('events.readAll', { afterPosition, limit: 1000 });
    events.push(...page.events);
    afterPosition = page.nextPosition;
    if (page.isEnd) return events;
  }
}

async function readStreamOverRpc(url: string, streamId: string): Promise<RecordedEvent[]> {
  const client = new RpcClient({ url, headers: admin });
  const events: RecordedEvent[] = [];
  let fromVersion = 1;
  for (;;) {
    const page: { events: RecordedEvent[]; nextVersion: number; isEnd: boolean } =
      await client.call('events.read', { streamId, fromVersion, limit: 1000 });
    events.push(...page.events);
    fromVersion = page.nextVersion;
    if (page.isEnd) return events;
  }
}

function runReplay(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', PROJECTION], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
