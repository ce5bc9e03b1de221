/** Redis stores as an instance builds them, on either topology (test/support/topologies.ts). */
import { PartitionedEventStore } from '../../src/events/partitioned-event-store.js';
import {
  DEFAULT_STORE_SETTINGS,
  type EventStore,
  partitioningFor,
  type RedisClient,
  RedisEventStore,
  type StoreSettings,
} from '../../src/index.js';

/**
 * The Redis store of `prefix` as an instance builds it: today's store on one partition, else the
 * partitioned facade over one store per partition.
 */
export function redisStoreFor(
  redis: RedisClient,
  prefix: string,
  partitions: number,
  storeSettings: StoreSettings = { ...DEFAULT_STORE_SETTINGS, serverId: 'test-server' },
): { store: EventStore; partitioning: ReturnType<typeof partitioningFor> } {
  const partitioning = partitioningFor(prefix, partitions);
  if (partitions === 1) {
    return {
      store: new RedisEventStore(redis, partitioning.keys[0]!, storeSettings),
      partitioning,
    };
  }
  const stores = partitioning.keys.map(
    (keys, partition) => new RedisEventStore(redis, keys, { ...storeSettings, partition }),
  );
  return {
    store: new PartitionedEventStore(stores, partitioning.of, storeSettings),
    partitioning,
  };
}
