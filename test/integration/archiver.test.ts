import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { compareEntryIds } from '../../src/archive/event-archive.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';
import { RpcClient } from '../../src/client/index.js';
import type { RecordedEvent } from '../../src/events/envelope.js';
import { partitioningFor } from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { startMoves } from '../support/moves.js';
import {
  createTestDatabase,
  describeWithPostgres,
  skipWhenMissing,
  type TestDatabase,
} from '../support/postgres.js';
import { clearPrefix, redisMissingReason, testRedisUrl, uniquePrefix } from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * DESIGN.md §9 across processes: one archiver per partition at a time, fenced batches with the
 * checkpoint in one transaction, failover from the archive's own checkpoint. After SIGKILLs of the
 * archive leader the archive holds the Redis log of every partition exactly once, in order.
 */
describeWithPostgres('archiver across instances (real Redis and PostgreSQL)', function () {
  this.timeout(180_000);
  let redis: Redis;
  let db: TestDatabase;
  let cluster: Cluster | undefined;
  let archive: PostgresEventArchive;
  let prefix: string;
  before(function () {
    const url = testRedisUrl();
    skipWhenMissing(this, 'archiver across instances', url ? undefined : redisMissingReason());
    redis = new Redis(url as string);
  });
  after(() => redis?.disconnect());
  beforeEach(async () => {
    db = await createTestDatabase('archiver');
    archive = new PostgresEventArchive({ url: db.url });
    prefix = uniquePrefix('arc');
  });
  afterEach(async () => {
    await cluster?.stop();
    await archive.close();
    await db.drop();
    await clearPrefix(redis, prefix);
  });

  const startCluster = async (partitions: number) => {
    const secret = randomBytes(32).toString('base64');
    cluster = new Cluster((slot, generation) => ({
      REDIS_URL: testRedisUrl(),
      PARTITIONS: String(partitions),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${generation}`,
      LEASE_TTL_MS: '1000',
      COMMAND_CLAIM_IDLE_MS: '1000',
      ARCHIVE_URL: db.url,
      ARCHIVE_BATCH: '50',
      LOG_LEVEL: 'info',
    }));
    await cluster.start(['a', 'b', 'c']);
  };

  /** The slot leading the most archivers (`a-0 7` → `a`). */
  const archiveLeader = async (partitions: number) => {
    const { keys } = partitioningFor(prefix, partitions);
    const slots = await Promise.all(
      keys.map(async (k) => (await redis.get(k.lease('archive')))?.split('-')[0]),
    );
    const counts = new Map<string, number>();
    for (const s of slots) if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
    return [...counts].sort((x, y) => y[1] - x[1])[0]?.[0];
  };

  const archivedLog = async (partition: number) => {
    const events: RecordedEvent[] = [];
    let after = '0-0';
    for (;;) {
      const page = await archive.readLog(partition, after, 1000);
      if (page.length === 0) return events;
      events.push(...page.map((e) => e.event));
      after = page.at(-1)!.entryId;
    }
  };

  const caughtUp = async (partitions: number) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const behind: number[] = [];
      for (let p = 0; p < partitions; p += 1) {
        const { keys } = partitioningFor(prefix, partitions);
        const [newest] = await redis.xrevrange(keys[p]!.all, '+', '-', 'COUNT', 1);
        if (newest && (await archive.archivedUpTo(p)) !== newest[0]) behind.push(p);
      }
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`archive still behind on partitions ${behind}`);
      await sleep(200);
    }
  };

  for (const partitions of [1, 3]) {
    it(`PARTITIONS=${partitions}: archives every event once, in log order, through leader SIGKILLs`, async () => {
      await startCluster(partitions);
      const live = () => cluster!.liveUrls();
      const load = startMoves({ urls: live, trainers: 20, inFlight: 12 });
      let kills = 0;
      for (let round = 0; round < 2; round += 1) {
        await sleep(2000);
        const slot = await archiveLeader(partitions);
        if (!slot) continue;
        await cluster!.crash(slot);
        kills += 1;
      }
      await sleep(1500);
      await load.stop();
      await caughtUp(partitions);

      // retention trims what is archived, so the answers, not Redis, say what the log held
      const archived = [];
      for (let p = 0; p < partitions; p += 1) {
        const log = await archivedLog(p);
        const ids = log.map((e) => e.globalPosition);
        expect(ids, `partition ${p}: archived in log order`).to.deep.equal(
          [...ids].sort(compareEntryIds),
        );
        archived.push(...log.map((e) => ({ ...e, globalPosition: position(partitions, p, e) })));
      }
      const answered = load.answers.map((a) => a.globalPosition).sort();
      expect(
        archived.map((e) => e.globalPosition).sort(),
        'every answered move once',
      ).to.deep.equal(answered);
      const versions = new Map<string, number[]>();
      for (const e of archived)
        versions.set(e.streamId, [...(versions.get(e.streamId) ?? []), e.version]);
      for (const [streamId, list] of versions) {
        expect(list, `${streamId} in log order`).to.deep.equal(list.map((_, i) => i + 1));
      }
      const total = archived.length;
      const fences = await fencesOf(db.url);
      const changes = fences.reduce((n, f) => n + f - 1, 0);
      process.stdout.write(
        `      moves ${load.answers.length}, archived ${total} over ${partitions} partition(s), archive leader SIGKILLs ${kills}, archive leader changes ${changes} (fences ${fences.join(' ')})\n`,
      );
      expect(total, 'one event per answered move').to.equal(load.answers.length);
      expect(kills, 'archive leaders killed').to.be.greaterThan(0);
      expect(changes, 'archive leader changes').to.be.greaterThan(0);

      const client = new RpcClient({ url: live()[0]!, headers: { 'x-user-id': 'ops' } });
      const status = (await client.call('system.status', {})) as {
        archive?: { partitions: { partition: number; lagEvents: number; archivedUpTo: string }[] };
      };
      expect(status.archive?.partitions.map((s) => s.lagEvents)).to.deep.equal(
        Array.from({ length: partitions }, () => 0),
      );
      const metrics = await (await fetch(`${live()[0]}/metrics`)).text();
      expect(metrics).to.match(/streamcast_archive_lag_events\{[^}]*partition="0"[^}]*\} 0/);
      expect(metrics).to.match(/^streamcast_archive_up(\{[^}]*\})? 1$/m);
    });
  }
});

/** An archived event's position as the instances hand it out (`<p>:<id>` with partitions). */
function position(partitions: number, partition: number, e: RecordedEvent): string {
  return partitions === 1 ? e.globalPosition : `${partition}:${e.globalPosition}`;
}

/** Every partition's fence in the archive (1 + leader changes, if the first leader wrote). */
async function fencesOf(url: string): Promise<number[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT fence FROM archive_checkpoints ORDER BY partition');
    return rows.map((r) => Number(r.fence));
  } finally {
    await client.end();
  }
}
