/**
 * Wiring of the store and the bus: opens the storage side of an instance from its configuration —
 * the event store, the command bus, projections' store, notifications, session directory and
 * secrets — on Redis or in memory. Used by main.ts and the operator scripts, so adapters are
 * chosen in one place.
 */

import type { EventArchive } from '../archive/event-archive.js';
import type { CommandBus } from '../commands/command-bus.js';
import { FaultSwitch } from '../commands/fault.js';
import { MemoryCommandBus } from '../commands/memory-command-bus.js';
import { PartitionedCommandBus } from '../commands/partitioned-command-bus.js';
import { RedisCommandBus, type RedisCommandBusOptions } from '../commands/redis-command-bus.js';
import {
  MemorySnapshotStore,
  RedisSnapshotStore,
  type SnapshotStore,
} from '../commands/snapshots.js';
import type { Config } from '../config.js';
import { MemorySecretStore } from '../connections/memory-secret-store.js';
import { RedisSecretStore } from '../connections/redis-secret-store.js';
import type { SecretStore } from '../connections/secret-store.js';
import {
  type JobConsumer,
  type JobHandlers,
  serveMemoryJobs,
  servePartitionedJobs,
} from '../deployments/job-queue.js';
import type { EventStore } from '../events/event-store.js';
import type { TierSettings } from '../events/log-tiers.js';
import { MemoryEventStore } from '../events/memory-event-store.js';
import { type ReplicaWait, replicaWaitFor } from '../events/outcome-confirmer.js';
import { PartitionedEventStore } from '../events/partitioned-event-store.js';
import { type Partitioning, partitioningFor } from '../events/partitions.js';
import type { StoreSettings } from '../events/prepare-append.js';
import type { RedisClient } from '../events/redis-connection.js';
import { connectRedis } from '../events/redis-connection.js';
import { RedisEventStore } from '../events/redis-event-store.js';
import { waitingJobs } from '../events/redis-job-count.js';
import type { ReadinessCheck } from '../http/health.js';
import type { Logger } from '../log.js';
import { CheckpointFeed } from '../projections/checkpoint-feed.js';
import type { LeasedFollower } from '../projections/leased-follower.js';
import { MemoryProjectionStore } from '../projections/memory-projection-store.js';
import type { ProjectionPartition } from '../projections/projection-store.js';
import { RedisProjectionStore } from '../projections/redis-projection-store.js';
import type { SessionDirectory } from '../sse/directory.js';
import { MemoryNotificationLog } from '../sse/memory-notification-log.js';
import { MemorySessionDirectory } from '../sse/memory-session-directory.js';
import type { NotificationLog } from '../sse/notification-log.js';
import { RedisNotificationLog } from '../sse/redis-notification-log.js';
import { RedisSessionDirectory } from '../sse/redis-session-directory.js';
import { openEventStoreDb } from './eventstoredb.js';
import { tierSettingsFor } from './tiers.js';

/** Handlers running at once per instance. */
const WORKER_CONCURRENCY = 64;

/** An opened backend. */
export interface Backend {
  readonly storeName: 'redis' | 'memory' | 'eventstoredb';
  /** PARTITIONS and every partition's keys (one partition in memory). */
  readonly partitioning: Partitioning;
  readonly store: EventStore;
  readonly bus: CommandBus;
  /** Projections' leases, checkpoints and read models, and the log they fold, per partition. */
  readonly projections: readonly ProjectionPartition[];
  /** Each partition's notifications stream as SSE delivery reads it, in partition order. */
  readonly notifications: readonly NotificationLog[];
  /** SSE sessions' subscriptions and presence, shared by every instance. */
  readonly directory: SessionDirectory;
  /** Connection secrets, sealed, outside the event log (`{sc}:secret:<connectionId>`). */
  readonly secrets: SecretStore;
  /** Entities' snapshots (`{sc}:snap:<streamId>`, in the stream's partition). */
  readonly snapshots: SnapshotStore;
  readonly redis?: RedisClient;
  /** ARCHIVE_URL's archive of the whole log (absent without one). */
  readonly archive?: EventArchive;
  /** REDIS_WAIT_REPLICAS > 0: its settings and counters (undefined for 0). */
  readonly replicaWait?: ReplicaWait;
  readonly fault: FaultSwitch;
  readonly checks: readonly ReadinessCheck[];
  /** STORE=eventstoredb: resolves once EventStoreDB answered (start-up waits for it). */
  storeReachable?(signal: AbortSignal): Promise<void>;
  /** STORE=eventstoredb: this instance's notifier of `$all` (leased; started with the projectors). */
  notifier?(): LeasedFollower;
  /** Serves the deployment job queue with at most DEPLOY_MAX_CONCURRENT jobs at once. */
  serveJobs(handlers: JobHandlers): Promise<JobConsumer>;
  /** Commands waiting in the group and dead-lettered ones. */
  backlog(): Promise<{ pending: number; lag: number; dead: number }>;
  /** Stops the bus (finishing or releasing in-flight commands), the store, then Redis. */
  close(): Promise<void>;
}

function storeSettings(config: Config, fault: FaultSwitch): StoreSettings {
  return {
    serverId: config.SERVER_ID,
    maxEventBytes: config.MAX_EVENT_BYTES,
    maxNotificationBytes: config.MAX_NOTIFICATION_BYTES,
    dedupTtlS: config.COMMAND_DEDUP_TTL_S,
    notifyRetention: config.NOTIFY_RETENTION,
    unsafeSkipDedupCheck: fault.noDedup,
  };
}

/** What an opener hands the backend besides the configuration. */
export interface BackendOptions {
  /** The archive of ARCHIVE_URL: reads find trimmed history there (Redis only); closed with it. */
  readonly archive?: EventArchive;
}

/** Opens the backend `config` asks for; with REDIS_URL set it never falls back to memory. */
export function openBackend(config: Config, logger: Logger, options: BackendOptions = {}): Backend {
  const fault = FaultSwitch.from(config.STREAMCAST_FAULT, logger);
  return config.STORE === 'memory'
    ? openMemory(config, logger, fault)
    : openRedis(config, logger, fault, options.archive);
}

function openMemory(config: Config, logger: Logger, fault: FaultSwitch): Backend {
  logger.warn(
    'no REDIS_URL: running on the embedded in-memory store, one instance only, nothing survives a restart; set REDIS_URL to use Redis',
    { component: 'store', store: 'memory' },
  );
  const store = new MemoryEventStore(storeSettings(config, fault));
  const bus = new MemoryCommandBus(store, {
    timeoutMs: config.COMMAND_TIMEOUT_MS,
    maxAttempts: config.COMMAND_MAX_ATTEMPTS,
    backlogMax: config.COMMAND_BACKLOG_MAX,
    concurrency: WORKER_CONCURRENCY,
    logger: logger.child({ component: 'commands' }),
  });
  return {
    storeName: 'memory',
    partitioning: partitioningFor(config.KEY_PREFIX, 1),
    store,
    bus,
    projections: [
      { partition: 0, events: store, store: new MemoryProjectionStore(() => store.stats().events) },
    ],
    notifications: [new MemoryNotificationLog(store.notifications)],
    directory: new MemorySessionDirectory({
      maxSessionsPerUser: config.SSE_MAX_SESSIONS_PER_USER,
    }),
    secrets: new MemorySecretStore(),
    snapshots: new MemorySnapshotStore(),
    fault,
    checks: [],
    serveJobs: async (handlers) =>
      serveMemoryJobs(
        store.jobs,
        handlers,
        config.DEPLOY_MAX_CONCURRENT,
        logger.child({ component: 'deployments' }),
      ),
    backlog: async () => ({ pending: 0, lag: 0, dead: (await bus.deadLetters(10_000)).length }),
    close: async () => {
      await bus.close();
      await store.close();
    },
  };
}

/**
 * The Redis event store: today's single-partition store with PARTITIONS=1; else one per partition
 * (positions `<p>:<id>`) under the partitioned facade.
 */
function openRedisStore(
  redis: RedisClient,
  partitioning: Partitioning,
  settings: StoreSettings,
  logger: Logger,
  tiers: (partition: number) => TierSettings | undefined,
): EventStore {
  const log = logger.child({ component: 'store' });
  const tiersOf = (partition: number) => {
    const t = tiers(partition);
    return t ? { tiers: t } : {};
  };
  if (partitioning.count === 1)
    return new RedisEventStore(redis, partitioning.keys[0]!, { ...settings, ...tiersOf(0) }, log);
  const stores = partitioning.keys.map(
    (keys, partition) =>
      new RedisEventStore(redis, keys, { ...settings, partition, ...tiersOf(partition) }, log),
  );
  return new PartitionedEventStore(stores, partitioning.of, {
    ...settings,
    // DEPLOY_MAX_QUEUED bounds the jobs of all partitions (PartitionedEventStore.append)
    waitingJobs: (p, queue, group) => waitingJobs(redis, partitioning.keys[p]!.jobs(queue), group),
  });
}

/** The Redis command bus: today's with PARTITIONS=1; else one per partition under the facade. */
function openRedisBus(
  redis: RedisClient,
  partitioning: Partitioning,
  options: RedisCommandBusOptions,
  logs: readonly EventStore[],
): RedisCommandBus | PartitionedCommandBus {
  // each partition's bus reads handled commands' events through its store (command records)
  if (partitioning.count === 1) {
    return new RedisCommandBus(redis, partitioning.keys[0]!, { ...options, events: logs[0]! });
  }
  const buses = partitioning.keys.map(
    (keys, partition) => new RedisCommandBus(redis, keys, { ...options, events: logs[partition]! }),
  );
  return new PartitionedCommandBus(buses, partitioning.of);
}

function openRedis(
  config: Config,
  logger: Logger,
  fault: FaultSwitch,
  archive: EventArchive | undefined,
): Backend {
  const redis = connectRedis(
    {
      ...(config.REDIS_URL ? { url: config.REDIS_URL } : {}),
      ...(config.REDIS_CLUSTER_NODES ? { clusterNodes: config.REDIS_CLUSTER_NODES } : {}),
    },
    logger,
  );
  const partitioning = partitioningFor(config.KEY_PREFIX, config.PARTITIONS);
  const keys = partitioning.keys[0]!;
  const replicaWait = replicaWaitFor(
    config.REDIS_WAIT_REPLICAS,
    config.REDIS_WAIT_TIMEOUT_MS,
    logger.child({ component: 'replicas' }),
  );
  const waiting = replicaWait ? { replicaWait } : {};
  // STORE=eventstoredb: the events there, the rest here (config.ts: one partition, no WAIT)
  const esdb =
    config.STORE === 'eventstoredb'
      ? openEventStoreDb(config, redis, keys, storeSettings(config, fault), fault, logger)
      : undefined;
  const store =
    esdb?.store ??
    openRedisStore(
      redis,
      partitioning,
      { ...storeSettings(config, fault), ...waiting },
      logger,
      (partition) => tierSettingsFor(config, archive, partition),
    );
  if (!esdb) {
    logger.info('using the Redis event store', {
      component: 'store',
      store: 'redis',
      keyPrefix: config.KEY_PREFIX,
    });
  }
  // each partition's log (the facade's own per-partition stores) and projection store (§8)
  const logs = store instanceof PartitionedEventStore ? store.partitions : [store];
  const bus = openRedisBus(
    redis,
    partitioning,
    {
      serverId: config.SERVER_ID,
      timeoutMs: config.COMMAND_TIMEOUT_MS,
      backlogMax: config.COMMAND_BACKLOG_MAX,
      graceMs: config.SHUTDOWN_GRACE_MS,
      concurrency: Math.max(WORKER_CONCURRENCY, 2 * config.COMMAND_BATCH_MAX),
      batchMax: config.COMMAND_BATCH_MAX,
      claimIdleMs: config.COMMAND_CLAIM_IDLE_MS,
      handlerDeadlineMs: config.COMMAND_HANDLER_DEADLINE_MS,
      maxAttempts: config.COMMAND_MAX_ATTEMPTS,
      dedupTtlS: config.COMMAND_DEDUP_TTL_S,
      fault,
      logger: logger.child({ component: 'commands' }),
      ...waiting,
      ...(esdb ? { ownedBeforeCommit: true } : {}),
    },
    logs,
  );
  const checkpoints = new CheckpointFeed(redis); // one subscription for every partition's waits
  const projections: ProjectionPartition[] = partitioning.keys.map((partitionKeys, partition) => ({
    partition,
    events: logs[partition]!,
    store: new RedisProjectionStore(redis, partitionKeys, checkpoints),
  }));
  const sseLogger = logger.child({ component: 'sse' });
  // not awaited: with Redis down the instance still serves /healthz and a 503 /readyz
  let listening = false;
  bus.start().then(
    () => {
      listening = true;
    },
    () => {}, // closed before it subscribed (a short-lived CLI); readiness stays false
  );
  return {
    storeName: esdb ? 'eventstoredb' : 'redis',
    partitioning,
    store,
    bus,
    projections,
    ...(esdb
      ? {
          storeReachable: (signal: AbortSignal) => esdb.reachable(signal),
          notifier: () => esdb.notifier(projections[0]!.store),
        }
      : {}),
    notifications: partitioning.keys.map(
      (partitionKeys) => new RedisNotificationLog(redis, partitionKeys, sseLogger),
    ),
    directory: new RedisSessionDirectory(redis, keys, {
      maxSessionsPerUser: config.SSE_MAX_SESSIONS_PER_USER,
    }),
    secrets: new RedisSecretStore(redis, keys),
    snapshots: new RedisSnapshotStore(redis, (id) => partitioning.keys[partitioning.of(id)]!),
    redis,
    ...(archive ? { archive } : {}),
    ...waiting,
    fault,
    checks: [
      ...(esdb ? [esdb.check] : []),
      {
        name: 'redis',
        check: () =>
          redis.status === 'ready'
            ? { ok: true }
            : { ok: false, reason: `connection ${redis.status}` },
      },
      {
        name: 'replies',
        check: () =>
          listening
            ? { ok: true }
            : { ok: false, reason: 'not yet subscribed to the reply channel' },
      },
    ],
    serveJobs: (handlers) =>
      servePartitionedJobs(redis, partitioning.keys, handlers, {
        serverId: config.SERVER_ID,
        concurrency: config.DEPLOY_MAX_CONCURRENT,
        claimIdleMs: config.COMMAND_CLAIM_IDLE_MS,
        deadlineMs: config.DEPLOY_TIMEOUT_MS + 60_000,
        maxAttempts: Math.max(config.COMMAND_MAX_ATTEMPTS, 10),
        dedupTtlS: config.COMMAND_DEDUP_TTL_S,
        fault,
        logger: logger.child({ component: 'deployments' }),
      }),
    backlog: () => bus.backlog(),
    close: async () => {
      await bus.close();
      await (esdb ?? store).close();
      await Promise.all(projections.map((p) => p.store.close()));
      await checkpoints.close();
      await archive?.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
