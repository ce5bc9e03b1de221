/**
 * STORE=eventstoredb: the EventStoreDB client and store, the readiness check that names
 * EventStoreDB, and the notifier. Start-up never fails for an unreachable server: the instance
 * keeps running, answers /readyz 503 naming EventStoreDB, and probes again every few seconds; it
 * never falls back to another store.
 */
import { BACKWARDS, END, EventStoreDBClient } from '@eventstore/db-client';
import { z } from 'zod';
import type { FaultSwitch } from '../commands/fault.js';
import type { Config } from '../config.js';
import { EsdbEventStore } from '../events/eventstoredb/esdb-event-store.js';
import { EsdbNotifier } from '../events/eventstoredb/notifier.js';
import { notifierStatus, registerNotifierMetrics } from '../events/eventstoredb/notifier-status.js';
import type { Keys } from '../events/keys.js';
import type { StoreSettings } from '../events/prepare-append.js';
import type { RedisClient } from '../events/redis-connection.js';
import { RedisEventStore } from '../events/redis-event-store.js';
import type { ReadinessCheck } from '../http/health.js';
import { type Logger, redactText } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ProjectionStore } from '../projections/projection-store.js';
import type { Backend } from './backend.js';

/** How often an unready instance probes EventStoreDB again, and a ready one checks it still is. */
const RETRY_MS = 2000;
const RECHECK_MS = 10_000;

export interface EventStoreDbParts {
  readonly store: EsdbEventStore;
  readonly check: ReadinessCheck;
  /** Resolves once EventStoreDB answered (start-up waits for it); rejects when `signal` aborts. */
  reachable(signal: AbortSignal): Promise<void>;
  /** The notifier of this instance (leased: one instance at a time writes). */
  notifier(store: ProjectionStore): EsdbNotifier;
  close(): Promise<void>;
}

export function openEventStoreDb(
  config: Config,
  redis: RedisClient,
  keys: Keys,
  settings: StoreSettings,
  fault: FaultSwitch,
  logger: Logger,
): EventStoreDbParts {
  const log = logger.child({ component: 'eventstoredb' });
  const where = redactText(config.EVENTSTORE_CONNECTION_STRING ?? '');
  const client = EventStoreDBClient.connectionString(config.EVENTSTORE_CONNECTION_STRING ?? '');
  const outcomes = new RedisEventStore(redis, keys, settings, log);
  const store = new EsdbEventStore(
    client,
    { redis, keys, outcomes },
    settings,
    config.EVENTSTORE_STREAM_PREFIX,
    fault,
  );
  const probe = new Probe(client, where, log);
  log.info(`using the EventStoreDB event store at ${where} (commands, outcomes and SSE on Redis)`, {
    store: 'eventstoredb',
  });
  return {
    store,
    check: { name: 'eventstoredb', check: () => probe.status },
    reachable: (signal) => probe.reachable(signal),
    notifier: (projections) =>
      new EsdbNotifier({
        events: store,
        store: projections,
        owner: config.SERVER_ID,
        leaseTtlMs: config.LEASE_TTL_MS,
        logger: log,
        redis,
        keys,
        dedupTtlS: config.COMMAND_DEDUP_TTL_S,
        notifyRetention: config.NOTIFY_RETENTION,
      }),
    close: async () => {
      probe.stop();
      await store.close();
      await outcomes.close();
      await client.dispose().catch(() => {});
    },
  };
}

/** Asks EventStoreDB for its version and the newest event of `$all` until it answers, then now and then. */
class Probe {
  status: { ok: boolean; reason?: string } = {
    ok: false,
    reason: 'EventStoreDB not reached yet',
  };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly where: string,
    private readonly logger: Logger,
  ) {
    void this.run();
  }

  /** Resolves once a probe succeeded; rejects with the signal's reason when it aborts first. */
  async reachable(signal: AbortSignal): Promise<void> {
    while (!this.status.ok) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    try {
      const version = await serverVersion(this.client);
      for await (const _ of this.client.readAll({
        direction: BACKWARDS,
        fromPosition: END,
        maxCount: 1,
      })) {
        // one event (or none) read: $all is readable
      }
      if (!this.status.ok) {
        this.logger.info(`EventStoreDB ${version} at ${this.where} reachable; $all readable`);
      }
      this.status = { ok: true };
    } catch (error) {
      const reason = `EventStoreDB at ${this.where} unreachable or $all unreadable: ${redactText(String((error as Error).message ?? error))}; retrying every ${RETRY_MS / 1000} s`;
      if (this.status.ok || this.status.reason !== reason) this.logger.error(reason);
      this.status = { ok: false, reason };
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.run(), this.status.ok ? RECHECK_MS : RETRY_MS);
      this.timer.unref();
    }
  }
}

/** The client's cached ServerFeatures answer, as far as it is read here. */
const features = z.object({ serverVersion: z.string() });

/**
 * The server's version as its ServerFeatures answer says (`capabilities` is the client's own
 * cached answer, not in its typings, so decoded defensively: 'unknown' if absent).
 */
async function serverVersion(client: EventStoreDBClient): Promise<string> {
  const answer: unknown = await Reflect.get(client, 'capabilities');
  const decoded = features.safeParse(answer);
  return decoded.success ? decoded.data.serverVersion : 'unknown';
}

/**
 * STORE=eventstoredb: the notifier to start with the projectors, and its status for
 * `system.status` and `/metrics` (undefined with any other store).
 */
export function notifierPartsFor(backend: Backend, metrics: Metrics) {
  const { notifier } = backend;
  const partition = backend.projections[0];
  if (!notifier || !partition) return undefined;
  const status = () => notifierStatus(partition);
  registerNotifierMetrics(metrics, status);
  return { status, start: notifier };
}
