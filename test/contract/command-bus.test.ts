import { PartitionedCommandBus } from '../../src/commands/partitioned-command-bus.js';
import {
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  MemoryCommandBus,
  MemoryEventStore,
  type RedisClient,
  RedisCommandBus,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { redisStoreFor } from '../support/redis-stores.js';
import { describeOnTopologies } from '../support/topologies.js';
import { BUS_TEST_SETTINGS, describeCommandBusContract } from './command-bus.contract.js';

const storeSettings = { ...DEFAULT_STORE_SETTINGS, serverId: 'test-server' };

describeCommandBusContract('memory', async () => {
  const store = new MemoryEventStore(storeSettings);
  const options = {
    ...BUS_TEST_SETTINGS,
    backlogMax: 10_000,
    concurrency: 16,
    logger: silentLogger,
  };
  const bus = new MemoryCommandBus(store, options);
  return {
    bus,
    store,
    overloadedBus: (backlogMax) => new MemoryCommandBus(store, { ...options, backlogMax }),
    cleanup: () => bus.close(),
  };
});

describeOnTopologies('Redis command bus contract', (topology) => {
  let redis: RedisClient;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());

  describeCommandBusContract('redis', async () => {
    const prefix = uniquePrefix('bus');
    const { store, partitioning } = redisStoreFor(
      redis,
      prefix,
      topology().partitions,
      storeSettings,
    );
    const options = {
      ...BUS_TEST_SETTINGS,
      serverId: 'bus-a',
      backlogMax: 10_000,
      concurrency: 16,
      claimIdleMs: 1000,
      handlerDeadlineMs: 30_000,
      dedupTtlS: 600,
      graceMs: 1000,
      fault: FaultSwitch.from(undefined, silentLogger),
      logger: silentLogger,
    };
    /** A bus as an instance builds it: today's on one partition, else one per partition. */
    const busOf = (serverId: string, backlogMax: number) => {
      const settings = { ...options, serverId, backlogMax };
      if (partitioning.count === 1) {
        return new RedisCommandBus(redis, partitioning.keys[0]!, settings);
      }
      const buses = partitioning.keys.map((keys) => new RedisCommandBus(redis, keys, settings));
      return new PartitionedCommandBus(buses, partitioning.of);
    };
    const bus = busOf('bus-a', 10_000);
    await bus.start();
    const extra: { close(): Promise<void> }[] = [];
    return {
      bus,
      store,
      overloadedBus: (backlogMax) => {
        const other = busOf('bus-b', backlogMax);
        extra.push(other);
        return other;
      },
      cleanup: async () => {
        await Promise.all([bus.close(), ...extra.map((b) => b.close())]);
        await store.close();
        await clearPrefix(redis, prefix);
      },
    };
  });
});
