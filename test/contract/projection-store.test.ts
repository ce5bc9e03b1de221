import { expect } from 'chai';
import {
  CheckpointFeed,
  MemoryProjectionStore,
  partitioningFor,
  ReadModels,
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

  it('wakes minPosition waits in every partition through one shared checkpoint subscription', async () => {
    const prefix = uniquePrefix('feed');
    const { partitions } = topology();
    const partitioning = partitioningFor(prefix, partitions);
    const feed = new CheckpointFeed(redis);
    const stores = partitioning.keys.map((keys) => new RedisProjectionStore(redis, keys, feed));
    let stateReads = 0;
    const counted = stores.map((store) =>
      Object.assign(Object.create(store) as RedisProjectionStore, {
        state: (name: string) => {
          stateReads += 1;
          return store.state(name);
        },
      }),
    );
    // a backstop of a minute: within the test only an announcement can wake a waiter
    const readModels = new ReadModels({
      stores: counted,
      projections: [{ name: 'p', streamOf: (id) => id }],
      partitionOf: () => 0,
      waitMs: 20_000,
      backstopMs: 60_000,
    });
    const pos = (p: number) => {
      const entry = `${1_700_000_000_000 + p}-0`;
      return partitions > 1 ? `${p}:${entry}` : entry;
    };
    try {
      const waits = stores.map((_s, p) => readModels.reach('p', pos(p)));
      await new Promise((resolve) => setTimeout(resolve, 300)); // every wait has read its state
      for (const [p, store] of stores.entries()) {
        const { fence } = (await store.acquire('p', 'leader', 10_000))!;
        const committed = await store.commit('p', {
          fence,
          from: '0',
          to: pos(p),
          generation: 1,
          writes: [],
        });
        expect(committed, `partition ${p}`).to.equal('ok');
      }
      await Promise.all(waits);
      process.stdout.write(
        `      ${partitions} partition(s): ${partitions} waits woken, ${stateReads} state reads\n`,
      );
      expect(stateReads, 'one state read per wait, at its start').to.equal(partitions);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await feed.close();
      await clearPrefix(redis, prefix);
    }
  });
});
