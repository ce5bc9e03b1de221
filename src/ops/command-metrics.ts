/**
 * Command metrics, kept out of the command code: the runtime's observer (runs, their outcome and
 * latency), the worker's own counters read at scrape time (dead letters, reclaims),
 * and the consumer group's backlog read from Redis at scrape time.
 */

import type { Worker, WorkerStats } from '../commands/index.js';
import type { HandledCommand } from '../commands/runtime.js';
import type { ReplicaWaitStats } from '../events/outcome-confirmer.js';
import type { Metrics } from '../metrics.js';

/** Handling latency buckets in seconds: a command is usually handled in a few milliseconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How long one backlog reading serves the scrape (three gauges share it). */
const BACKLOG_CACHE_MS = 500;

/**
 * Counts handled commands by outcome (`ok`: events appended, `rejected`: answered with a domain
 * error, `failed`: a transient error, retried or dead-lettered) and times them: the runtime's
 * `observe` hook.
 */
export function meterCommands(metrics: Metrics): (handled: HandledCommand) => void {
  const runs = metrics.counter({
    name: 'streamcast_commands_handled_total',
    help: 'Command handler runs on this instance by command type and outcome (ok, rejected, failed)',
    labelNames: ['type', 'outcome'] as const,
  });
  const latency = metrics.histogram({
    name: 'streamcast_command_handling_seconds',
    help: 'Time a command handler run took on this instance, by command type',
    labelNames: ['type'] as const,
    buckets: LATENCY_BUCKETS,
  });
  return ({ type, outcome, seconds }) => {
    runs.inc({ type, outcome });
    latency.observe({ type }, seconds);
  };
}

/** Exposes a worker's own counters (the Redis worker keeps them; the memory one has none). */
export function meterWorker(worker: Worker, metrics: Metrics): void {
  if (!hasStats(worker)) return;
  const { stats } = worker;
  mirror(
    metrics,
    'streamcast_commands_dead_total',
    'Commands this instance dead-lettered',
    () => stats.dead,
  );
  mirror(
    metrics,
    'streamcast_commands_reclaimed_total',
    'Stale commands this instance reclaimed from another (dead or hung) consumer',
    () => stats.reclaimed,
  );
  mirror(
    metrics,
    'streamcast_commands_redelivered_total',
    'Redelivered commands that were already handled and were only acknowledged',
    () => stats.redelivered,
  );
  mirror(
    metrics,
    'streamcast_commands_retried_total',
    'In-process retries of commands after a transient handler failure',
    () => stats.retried,
  );
}

/**
 * REDIS_WAIT_REPLICAS counters: WAITs that saw enough replicas, WAITs that fell short, and commands
 * answered -32030 because of a shortfall (each shortfall is also logged where it happened).
 */
export function meterReplicaWait(stats: ReplicaWaitStats, metrics: Metrics): void {
  mirror(
    metrics,
    'streamcast_replica_wait_confirmed_total',
    'WAITs (REDIS_WAIT_REPLICAS) that saw enough replicas take a commit before it was answered',
    () => stats.confirmed,
  );
  mirror(
    metrics,
    'streamcast_replica_wait_shortfalls_total',
    'WAITs that saw fewer replicas than REDIS_WAIT_REPLICAS within REDIS_WAIT_TIMEOUT_MS',
    () => stats.shortfalls,
  );
  mirror(
    metrics,
    'streamcast_replica_wait_shortfall_answers_total',
    'Commands answered -32030 because their outcome was not yet on enough replicas',
    () => stats.shortfallAnswers,
  );
}

/** How many commands wait in the group and how many are dead-lettered (the bus's `backlog`). */
export type BacklogReader = () => Promise<{ pending: number; lag: number; dead: number }>;

/**
 * Gauges of the command group read at scrape time: `pending` (delivered, not yet acknowledged),
 * `lag` (not yet delivered) and the dead-letter stream's length. Skipped while Redis is down.
 */
export function meterBacklog(
  backlog: BacklogReader,
  reachable: () => boolean,
  metrics: Metrics,
): void {
  let reading: { at: number; value: ReturnType<BacklogReader> } | undefined;
  const read = () => {
    if (!reading || Date.now() - reading.at > BACKLOG_CACHE_MS) {
      reading = { at: Date.now(), value: backlog() };
    }
    return reading.value;
  };
  const gauge = (
    name: string,
    help: string,
    pick: (b: Awaited<ReturnType<BacklogReader>>) => number,
  ) =>
    metrics.gauge({
      name,
      help,
      async collect() {
        if (!reachable()) return;
        try {
          this.set(pick(await read()));
        } catch {
          // Redis went away during the scrape: keep the last value
        }
      },
    });
  gauge(
    'streamcast_command_group_pending',
    'Commands delivered to a consumer and not yet acknowledged (all instances)',
    (b) => b.pending,
  );
  gauge(
    'streamcast_command_group_lag',
    'Commands in the stream not yet delivered to any consumer (all instances)',
    (b) => b.lag,
  );
  gauge(
    'streamcast_dead_letters',
    'Dead-lettered commands waiting in the dead-letter stream (all instances)',
    (b) => b.dead,
  );
}

function hasStats(worker: Worker): worker is Worker & { readonly stats: WorkerStats } {
  return typeof (worker as { stats?: unknown }).stats === 'object';
}

/** A counter that follows a monotonic count kept elsewhere, read at scrape time. */
export function mirror(metrics: Metrics, name: string, help: string, read: () => number): void {
  let seen = 0;
  metrics.counter({
    name,
    help,
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = Math.max(seen, now);
    },
  });
}
