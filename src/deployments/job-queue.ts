/**
 * The deployment job queue `{sc}:jobs:deploy` (consumer group `runners`), served with the same
 * consumer-group worker as commands (DESIGN.md §7): an instance reads jobs only into free slots
 * (DEPLOY_MAX_CONCURRENT), renews the ones it runs, and takes over those of a dead instance after
 * COMMAND_CLAIM_IDLE_MS — the process manager then resumes at the first unfinished stage.
 */

import type { FaultSwitch } from '../commands/fault.js';
import { RedisCommandWorker } from '../commands/redis-worker.js';
import { DEPLOY_QUEUE, RUNNER_GROUP } from '../domain/deployment/start-deployment.js';
import type { Keys } from '../events/keys.js';
import type { MemoryJobs } from '../events/memory-jobs.js';
import type { RedisClient } from '../events/redis-connection.js';
import type { Logger } from '../log.js';

export {
  DEPLOY_QUEUE,
  RUN_DEPLOYMENT,
  RUNNER_GROUP,
} from '../domain/deployment/start-deployment.js';

/** What serves the queue: runs a job to its end (throws to have it retried). */
export interface JobHandlers {
  run(jobId: string): Promise<void>;
  /** A job that failed every attempt (or hung past its deadline each time). */
  abandon(jobId: string, reason: string): Promise<void>;
}

/** A running queue consumer. */
export interface JobConsumer {
  close(graceMs?: number): Promise<void>;
}

export interface RedisJobQueueOptions {
  readonly serverId: string;
  /** DEPLOY_MAX_CONCURRENT */
  readonly concurrency: number;
  /** COMMAND_CLAIM_IDLE_MS */
  readonly claimIdleMs: number;
  /** The longest a job may run (DEPLOY_TIMEOUT_MS plus a margin). */
  readonly deadlineMs: number;
  readonly maxAttempts: number;
  readonly dedupTtlS: number;
  readonly fault: FaultSwitch;
  readonly logger: Logger;
}

/** Consumes `{sc}:jobs:deploy` with the command worker, pointed at the job stream. */
export async function serveRedisJobs(
  redis: RedisClient,
  keys: Keys,
  handlers: JobHandlers,
  options: RedisJobQueueOptions,
): Promise<JobConsumer> {
  const jobKeys: Keys = {
    ...keys,
    commands: keys.jobs(DEPLOY_QUEUE),
    deadCommands: `${keys.jobs(DEPLOY_QUEUE)}:dead`,
  };
  const worker = new RedisCommandWorker(
    redis,
    jobKeys,
    {
      // a job at a time (batchMax 1); a redelivered one resumes, its steps are idempotent
      processBatch: (jobs) =>
        jobs.map(({ command: job }) =>
          handlers.run(job.id).then(
            () => ({ acknowledged: false }),
            (error: unknown) => ({ error }),
          ),
        ),
      deadLettered: (job, _attempts, lastError) => handlers.abandon(job.id, lastError),
    },
    {
      group: RUNNER_GROUP,
      consumer: options.serverId,
      concurrency: options.concurrency,
      batchMax: 1,
      claimIdleMs: options.claimIdleMs,
      handlerDeadlineMs: options.deadlineMs,
      maxAttempts: options.maxAttempts,
      dedupTtlS: options.dedupTtlS,
      fault: options.fault,
      logger: options.logger,
    },
  );
  await worker.start();
  return worker;
}

/**
 * Serves the deployment queue of every partition (`jobs:deploy` of the partition whose append
 * queued the job, i.e. the deployment stream's): one worker, with a blocking reader of its own,
 * per partition; with one partition exactly `serveRedisJobs`. Each partition's worker takes up to
 * DEPLOY_MAX_CONCURRENT jobs, so with PARTITIONS > 1 an instance may run up to PARTITIONS times
 * that many at once (the slots are not shared across partitions yet).
 */
export async function servePartitionedJobs(
  redis: RedisClient,
  partitions: readonly Keys[],
  handlers: JobHandlers,
  options: RedisJobQueueOptions,
): Promise<JobConsumer> {
  if (partitions.length === 1) return serveRedisJobs(redis, partitions[0]!, handlers, options);
  const consumers = await Promise.all(
    partitions.map((keys) => serveRedisJobs(redis, keys, handlers, options)),
  );
  return {
    close: async (graceMs) => {
      await Promise.all(consumers.map((c) => c.close(graceMs)));
    },
  };
}

/** Runs the memory store's queued jobs in this process, at most `concurrency` at once. */
export function serveMemoryJobs(
  jobs: MemoryJobs,
  handlers: JobHandlers,
  concurrency: number,
  logger: Logger,
): JobConsumer {
  let running = 0;
  let closed = false;
  const active = new Set<Promise<void>>();
  const pump = () => {
    while (!closed && running < concurrency) {
      const job = jobs.take(DEPLOY_QUEUE);
      if (!job) return;
      running += 1;
      const done = handlers
        .run(job.id)
        .catch(async (error: unknown) => {
          logger.error(`job ${job.id} failed`, { error: String(error) });
          await handlers.abandon(job.id, String(error)).catch(() => {});
        })
        .finally(() => {
          running -= 1;
          active.delete(done);
          pump();
        });
      active.add(done);
    }
  };
  jobs.added.on('job', pump);
  pump();
  return {
    close: async () => {
      closed = true;
      jobs.added.off('job', pump);
      await Promise.allSettled([...active]);
    },
  };
}
