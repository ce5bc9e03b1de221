import type { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  keysFor,
  MemoryEventStore,
  MemoryNotificationLog,
  RedisEventStore,
  RedisNotificationLog,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';
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

describeWithRedis('Redis notification log', () => {
  let redis: Redis;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());

  describeNotificationLogContract('redis', async () => {
    const prefix = uniquePrefix('notify');
    const keys = keysFor(prefix);
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
