import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { Archiver } from '../../src/archive/archiver.js';
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
  type PostgresServer,
  postgresBinary,
  skipWhenMissing,
  startPostgresServer,
} from '../support/postgres.js';
import { clearPrefix, testClient, testRedisUrl, uniquePrefix } from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The archiver rides out PostgreSQL going away (a crash, then a restart) without a gap or a duplicate. */
describeWithPostgres(
  'archiver through a PostgreSQL restart (real Redis, private PostgreSQL)',
  function () {
    this.timeout(120_000);
    let redis: Redis;
    let server: PostgresServer;
    before(async function () {
      skipWhenMissing(
        this,
        'archiver through a PostgreSQL restart',
        testRedisUrl() && postgresBinary('initdb')
          ? undefined
          : 'needs Redis and initdb (apt-get install redis-server postgresql)',
      );
      redis = testClient();
      server = await startPostgresServer();
    });
    after(async () => {
      redis?.disconnect();
      await server?.destroy();
    });

    it('archives every event once, in order, across an immediate stop and a start', async () => {
      const db = await createTestDatabase('restart', server.url);
      const prefix = uniquePrefix('arr');
      const keys = partitioningFor(prefix, 1).keys[0]!;
      const events = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 's' });
      const store = new RedisProjectionStore(redis, keys);
      const { logger, lines } = capturingLogger();
      const archive = new PostgresEventArchive({ url: db.url, onError: () => {} });
      const archiver = new Archiver({
        archive,
        events,
        store,
        owner: 'me',
        leaseTtlMs: 300,
        logger,
        batchSize: 20,
      });
      let appending = true;
      let appended = 0;
      const writer = (async () => {
        while (appending) {
          await events.append(`trainer-t${appended % 5}`, [
            { type: 'Moved', data: { n: appended } },
          ]);
          appended += 1;
          await sleep(2);
        }
      })();
      try {
        await sleep(1000);
        await server.stop('immediate');
        const stoppedAt = appended;
        await sleep(1500);
        await server.start();
        await sleep(1000);
        appending = false;
        await writer;
        const [newest] = await redis.xrevrange(keys.all, '+', '-', 'COUNT', 1);
        const deadline = Date.now() + 30_000;
        while ((await archive.archivedUpTo(0)) !== newest![0]) {
          if (Date.now() > deadline) throw new Error('the archive did not catch up');
          await sleep(100);
        }
        const archived = await archive.readLog(0, '0-0', 100_000);
        const inRedis = await events.readAll({ limit: 1000 });
        const all = [...inRedis.events];
        for (let page = inRedis; !page.isEnd; ) {
          page = await events.readAll({ after: page.nextPosition, limit: 1000 });
          all.push(...page.events);
        }
        const failures = lines.filter((l) => l.includes('retrying')).length;
        process.stdout.write(
          `      appended ${appended} (${stoppedAt} before the stop), archived ${archived.length}, archiver failures while PostgreSQL was away ${failures}\n`,
        );
        expect(archived.map((e) => e.event)).to.deep.equal(all);
        expect(archived.length).to.equal(appended);
        expect(failures, 'the archiver saw PostgreSQL go away').to.be.greaterThan(0);
      } finally {
        appending = false;
        await archiver.close();
        await archive.close();
        await store.close();
        await clearPrefix(redis, prefix);
        await db.drop();
      }
    });
  },
);
