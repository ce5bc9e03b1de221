/**
 * Wiring of operations: metrics, graceful shutdown, the instance registry (one live process per
 * `SERVER_ID`), the event log's loss watch, readiness, and the start-up checks that must pass
 * before the instance takes any work.
 */
import type { Config } from '../config.js';
import { keysFor } from '../events/keys.js';
import { LogWatch } from '../events/log-watch.js';
import { PartitionedEventStore } from '../events/partitioned-event-store.js';
import type { ReadinessCheck } from '../http/health.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import {
  GracefulShutdown,
  InstanceRegistry,
  meterBacklog,
  meterInstance,
  meterRedisMemory,
  meterReplicaWait,
  passStartupChecks,
  StartupRefusedError,
} from '../ops/index.js';
import { VERSION } from '../version.js';
import type { Backend } from './backend.js';

/** An instance's operations parts. */
export interface Operations {
  readonly metrics: Metrics;
  readonly shutdown: GracefulShutdown;
  readonly registry?: InstanceRegistry;
  readonly logWatch: LogWatch;
  /** Every readiness check of `/readyz`; `commandsRunning` tells whether work has started. */
  readiness(commandsRunning: () => boolean): ReadinessCheck[];
  /**
   * True once the start-up checks passed (at once on the memory store); false when a shutdown
   * interrupted them. A refusal is logged one line per problem and exits with code 1.
   */
  passStartupChecks(signal: AbortSignal): Promise<boolean>;
}

/** `secretKeyId`: the key id of this instance's SECRET_KEY, recorded in its registry entry. */
export function operationsFor(
  config: Config,
  backend: Backend,
  secretKeyId: string,
  logger: Logger,
): Operations {
  const metrics = new Metrics({ serverId: config.SERVER_ID });
  const shutdown = new GracefulShutdown({ graceMs: config.SHUTDOWN_GRACE_MS, logger });
  const registry = backend.redis
    ? new InstanceRegistry(backend.redis, keysFor(config.KEY_PREFIX), {
        serverId: config.SERVER_ID,
        ttlMs: config.SERVER_TTL_MS,
        port: config.PORT,
        secretKeyId,
        logger: logger.child({ component: 'registry' }),
        onLost: () => void shutdown.begin('SERVER_ID taken over', 1),
      })
    : undefined;
  // each partition's log on its own: a whole-log cursor is no position to compare
  const logWatch = new LogWatch(
    backend.store instanceof PartitionedEventStore ? backend.store.partitions : backend.store,
    logger.child({ component: 'store' }),
  );
  metrics.gauge({
    name: 'streamcast_event_log_losses',
    help: 'Times the global log was found behind its high-water mark (Redis lost data) since start',
    collect() {
      this.set(logWatch.losses);
    },
  });
  if (backend.replicaWait) meterReplicaWait(backend.replicaWait.stats, metrics);
  if (backend.redis) meterRedisMemory(metrics, backend.redis, config.KEY_PREFIX);
  meterBacklog(
    () => backend.backlog(),
    () => !backend.redis || backend.redis.status === 'ready',
    metrics,
  );
  const readiness = (commandsRunning: () => boolean): ReadinessCheck[] => {
    const checks: ReadinessCheck[] = [
      {
        name: 'shutdown',
        check: () => (shutdown.started ? { ok: false, reason: 'shutting down' } : { ok: true }),
      },
      ...backend.checks,
      {
        name: 'commands',
        check: () =>
          commandsRunning()
            ? { ok: true }
            : { ok: false, reason: 'start-up checks have not passed yet' },
      },
      ...(registry ? [registry.readiness] : []),
      logWatch.readiness,
    ];
    meterInstance(metrics, { version: VERSION, store: config.STORE }, checks);
    return checks;
  };
  return {
    metrics,
    shutdown,
    ...(registry ? { registry } : {}),
    logWatch,
    readiness,
    passStartupChecks: async (signal) => {
      if (!registry || !backend.redis) return true;
      const checks = passStartupChecks({
        redis: backend.redis,
        registry,
        serverId: config.SERVER_ID,
        partitioning: backend.partitioning,
        logger: logger.child({ component: 'startup' }),
        signal,
      }).then(() => backend.storeReachable?.(signal));
      return passedOrExit(checks, signal, logger);
    },
  };
}

async function passedOrExit(
  checks: Promise<void>,
  signal: AbortSignal,
  logger: Logger,
): Promise<boolean> {
  try {
    await checks;
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    if (!(error instanceof StartupRefusedError)) throw error;
    for (const problem of error.problems) {
      logger.error(`streamcast cannot start: ${problem}`, { component: 'startup' });
    }
    process.exit(1);
  }
}
