/**
 * Events: the envelope, the `EventStore` port, and its adapters (Redis, memory). Everything that
 * writes or reads events, the global log, outcomes of idempotency keys and notifications goes here.
 */
export * from './byte-budget.js';
export {
  type CommandRecord,
  CommandRecords,
  parseRecord,
  SENT,
} from './command-records.js';
export * from './envelope.js';
export * from './event-store.js';
export { EsdbEventStore, type EsdbRedisSide } from './eventstoredb/esdb-event-store.js';
export { EsdbNotifier, NOTIFIER_LEASE, type NotifierOptions } from './eventstoredb/notifier.js';
export { type Keys, keysFor, recordDigest } from './keys.js';
export { LogTiers, type TierItem, type TierSettings } from './log-tiers.js';
export { MemoryEventStore } from './memory-event-store.js';
export { MemoryNotifications, type StoredNotification } from './memory-notifications.js';
export {
  type AnswerRecord,
  answerErrorOf,
  answerRecordOf,
  decodeOutcome,
  errorOfOutcome,
  landedAt,
  outcomeSchema,
} from './outcome.js';
export {
  keySlot,
  MAX_PARTITIONS,
  type Partitioning,
  partitioningFor,
  partitionOf,
  partitionTags,
  SLOTS,
} from './partitions.js';
export {
  DEFAULT_STORE_SETTINGS,
  MAX_EVENTS_PER_APPEND,
  type StoreSettings,
} from './prepare-append.js';
export { connectRedis, isCluster, type RedisClient, type RedisTarget } from './redis-connection.js';
export { RedisEventStore } from './redis-event-store.js';
export { compareStreamIds, isStreamId } from './stream-ids.js';
export {
  NO_SNAPSHOTS,
  type SnapshotVersions,
  TRIM_STEP,
  type Trimmed,
  Trimmer,
  type TrimmerOptions,
} from './trimmer.js';
