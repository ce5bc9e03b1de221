import type { Redis } from 'ioredis';
import { keysFor, MemoryProjectionStore, RedisProjectionStore } from '../../src/index.js';
import {
  clearPrefix,
  describeWithRedis,
  keysUnder,
  testClient,
  uniquePrefix,
} from '../support/redis.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

describeProjectionStoreContract('memory', async () => {
  const store = new MemoryProjectionStore(() => 0);
  return {
    store,
    pos: (n) => String(n),
    docCount: async (name) => store.documentCount(name),
    cleanup: async () => {},
  };
});

describeWithRedis('Redis projection store', () => {
  let redis: Redis;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());

  describeProjectionStoreContract('redis', async () => {
    const prefix = uniquePrefix('proj');
    const keys = keysFor(prefix);
    const store = new RedisProjectionStore(redis, keys);
    return {
      store,
      pos: (n) => `${1_700_000_000_000 + n}-0`,
      docCount: async (name) =>
        (await keysUnder(redis, prefix)).filter(
          (k) => k.startsWith(keys.readModel(name)) && k.includes(':d:'),
        ).length,
      cleanup: async () => {
        await store.close();
        await clearPrefix(redis, prefix);
      },
    };
  });
});
