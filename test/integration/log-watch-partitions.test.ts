import { expect } from 'chai';
import { LogWatch } from '../../src/events/log-watch.js';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { DEFAULT_STORE_SETTINGS, RedisEventStore, silentLogger } from '../../src/index.js';
import { streamOf } from '../support/partitioned-hub.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';

/** DESIGN.md G5's event-log check with partitions (§8): each partition's log watched on its own. */
describeOnTopologies('LogWatch over partition logs', (topology) => {
  let redis: RedisClient;
  let prefix: string;
  beforeEach(() => {
    redis = topology().client();
    prefix = uniquePrefix('watch');
  });
  afterEach(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it('finds a loss in one partition’s log though every partition moved on, and no loss before', async () => {
    // at least two partitions, also on one redis-server
    const partitioning = partitioningFor(prefix, Math.max(2, topology().partitions));
    const stores = partitioning.keys.map(
      (keys, partition) =>
        new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 's', partition }),
    );
    const appendEverywhere = () =>
      Promise.all(
        stores.map((store, p) =>
          store.append(streamOf(partitioning, p), [{ type: 'Noted', data: {} }]),
        ),
      );
    const watch = new LogWatch(stores, silentLogger);
    try {
      await appendEverywhere();
      await watch.check();
      for (let i = 0; i < 3; i++) {
        await appendEverywhere();
        await watch.check();
      }
      expect(watch.losses, 'every partition moved on: no loss').to.equal(0);
      const victim = partitioning.count - 1;
      const all = partitioning.keys[victim]!.all;
      const newest = await redis.xrevrange(all, '+', '-', 'COUNT', 2);
      await redis.xdel(all, ...newest.map(([id]) => id)); // Redis lost them …
      await appendEverywhere(); // … and took new events at once, past the high-water mark
      await watch.check();
      expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([1, false]);
      process.stdout.write(
        `      ${partitioning.count} partition logs, 4 checks without loss; 2 events lost in partition ${victim} under newer ones: 1 loss found\n`,
      );
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
