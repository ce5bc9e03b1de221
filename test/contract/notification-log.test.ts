import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import {
  DEFAULT_STORE_SETTINGS,
  MemoryEventStore,
  MemoryNotificationLog,
  RedisEventStore,
  RedisNotificationLog,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';
import {
  describeNotificationLogContract,
  NOTIFY_TEST_RETENTION,
} from './notification-log.contract.js';

const settings = {
  ...DEFAULT_STORE_SETTINGS,
  serverId: 'test-server',
  notifyRetention: NOTIFY_TEST_RETENTION,
};

describeNotificationLogContract('memory', async () => {
  const store = new MemoryEventStore(settings);
  return {
    store,
    log: new MemoryNotificationLog(store.notifications),
    cleanup: () => store.close(),
  };
});

/** On a cluster, the last partition's stream: a partition tag of its own, not `{prefix}`. */
describeOnTopologies('Redis notification log', (topology) => {
  let redis: RedisClient;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());

  describeNotificationLogContract('redis', async () => {
    const prefix = uniquePrefix('notify');
    const keys = partitioningFor(prefix, topology().partitions).keys.at(-1)!;
    const store = new RedisEventStore(redis, keys, settings);
    return {
      store,
      log: new RedisNotificationLog(redis, keys, silentLogger),
      cleanup: async () => {
        await store.close();
        await clearPrefix(redis, prefix);
      },
    };
  });
});
