import {
  MemoryProjectionStore,
  partitioningFor,
  type RedisClient,
  RedisProjectionStore,
} from '../../src/index.js';
import { clearPrefix, keysUnder, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';
import { describeProjectionStoreContract } from './projection-store.contract.js';

describeProjectionStoreContract('memory', async () => {
  const store = new MemoryProjectionStore(() => 0);
  return {
    store,
    pos: (n) => String(n),
    partition: 0,
    partitions: 1,
    docCount: async (name) => store.documentCount(name),
    cleanup: async () => {},
  };
});

describeOnTopologies('Redis projection store', (topology) => {
  let redis: RedisClient;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());

  describeProjectionStoreContract('redis', async () => {
    const prefix = uniquePrefix('proj');
    const { partitions } = topology();
    // on the cluster: the last partition's keys, and positions as its log hands them out
    const partition = partitions - 1;
    const keys = partitioningFor(prefix, partitions).keys[partition]!;
    const store = new RedisProjectionStore(redis, keys);
    const entry = (n: number) => `${1_700_000_000_000 + n}-0`;
    return {
      store,
      pos: (n) => (partitions > 1 ? `${partition}:${entry(n)}` : entry(n)),
      partition,
      partitions,
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
