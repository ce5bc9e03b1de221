import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { ARCHIVE_LEASE, Archiver } from '../../src/archive/archiver.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';
import {
  DEFAULT_STORE_SETTINGS,
  partitioningFor,
  RedisEventStore,
  RedisProjectionStore,
} from '../../src/index.js';
import { capturingLogger } from '../support/log-lines.js';
import {
  createTestDatabase,
  describeWithPostgres,
  skipWhenMissing,
  type TestDatabase,
} from '../support/postgres.js';
import {
  clearPrefix,
  redisMissingReason,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An archiver in-process on real Redis and PostgreSQL: what it does when the lease's fence is
 * behind the archive's (Redis lost its keys), and that it follows the log live.
 */
describeWithPostgres('archiver (in-process, real Redis and PostgreSQL)', function () {
  this.timeout(60_000);
  let redis: Redis;
  let db: TestDatabase;
  let archive: PostgresEventArchive;
  let prefix: string;
  before(function () {
    skipWhenMissing(
      this,
      'archiver (in-process)',
      testRedisUrl() ? undefined : redisMissingReason(),
    );
    redis = testClient();
  });
  after(() => redis?.disconnect());
  beforeEach(async () => {
    db = await createTestDatabase('fence');
    archive = new PostgresEventArchive({ url: db.url });
    prefix = uniquePrefix('arf');
  });
  afterEach(async () => {
    await archive.close();
    await db.drop();
    await clearPrefix(redis, prefix);
  });

  it('climbs past an archive fence left by a Redis that lost its keys, then archives live', async () => {
    const keys = partitioningFor(prefix, 1).keys[0]!;
    const events = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 's' });
    const store = new RedisProjectionStore(redis, keys);
    await archive.write(0, 4, []); // the archive saw fence 4; this Redis starts again at 1
    for (let i = 1; i <= 30; i += 1) {
      await events.append(`trainer-t${i % 3}`, [{ type: 'Moved', data: { i } }]);
    }
    const { logger, lines } = capturingLogger();
    const archiver = new Archiver({
      archive,
      events,
      store,
      owner: 'me',
      leaseTtlMs: 150,
      logger,
      batchSize: 7,
    });
    try {
      const deadline = Date.now() + 20_000;
      while ((await archive.readLog(0, '0-0', 100)).length < 30) {
        if (Date.now() > deadline) throw new Error(`not archived: ${lines.join('')}`);
        await sleep(50);
      }
      await events.append('trainer-t0', [{ type: 'Moved', data: { i: 31 } }]);
      while ((await archive.readLog(0, '0-0', 100)).length < 31) {
        if (Date.now() > deadline) throw new Error('the live event was not archived');
        await sleep(50);
      }
    } finally {
      await archiver.close();
      await store.close();
    }
    const refused = lines.filter((l) => l.includes('the archive holds a newer fence')).length;
    const fence = Number(await redis.hget(keys.projection(ARCHIVE_LEASE), 'fence'));
    process.stdout.write(`      refused batches ${refused}, lease fence now ${fence}\n`);
    expect(refused, 'batches refused while the fence climbed (fences 1, 2, 3)').to.equal(3);
    expect(fence, "the archive's fence, 4, is accepted").to.equal(4);
    const log = await archive.readLog(0, '0-0', 100);
    const inRedis = await events.readAll({ limit: 100 });
    expect(log.map((e) => e.entryId)).to.deep.equal(inRedis.events.map((e) => e.globalPosition));
    expect(archiver.archived).to.equal(31);
  });
});
