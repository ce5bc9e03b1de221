import type { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  keysFor,
  MemoryCommandBus,
  MemoryEventStore,
  RedisCommandBus,
  RedisEventStore,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';
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

describeWithRedis('Redis command bus', () => {
  let redis: Redis;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());

  describeCommandBusContract('redis', async () => {
    const prefix = uniquePrefix('bus');
    const keys = keysFor(prefix);
    const store = new RedisEventStore(redis, keys, storeSettings);
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
    const bus = new RedisCommandBus(redis, keys, options);
    await bus.start();
    const extra: RedisCommandBus[] = [];
    return {
      bus,
      store,
      overloadedBus: (backlogMax) => {
        const other = new RedisCommandBus(redis, keys, {
          ...options,
          serverId: 'bus-b',
          backlogMax,
        });
        extra.push(other);
        return other;
      },
      cleanup: async () => {
        await Promise.all([bus.close(), ...extra.map((b) => b.close())]);
        await clearPrefix(redis, prefix);
      },
    };
  });
});
