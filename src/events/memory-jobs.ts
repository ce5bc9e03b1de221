import { EventEmitter } from 'node:events';
import type { Json } from './envelope.js';
import type { PreparedJob } from './prepare-append.js';

/** A job as an append queued it. */
export interface QueuedJob {
  readonly id: string;
  readonly type: string;
  readonly data: Json;
  readonly meta: Json;
}

/** The memory store's job queues: what `{sc}:jobs:<queue>` holds before a runner takes a job. */
export class MemoryJobs {
  private readonly queues = new Map<string, QueuedJob[]>();
  /** Emits `job` with the queue name when a job is queued. */
  readonly added = new EventEmitter();

  /** Jobs nobody took yet. */
  waiting(queue: string): number {
    return this.queues.get(queue)?.length ?? 0;
  }

  push(job: PreparedJob): void {
    const list = this.queues.get(job.queue) ?? [];
    list.push({
      id: job.id,
      type: job.type,
      data: JSON.parse(job.data),
      meta: JSON.parse(job.meta),
    });
    this.queues.set(job.queue, list);
    this.added.emit('job', job.queue);
  }

  /** The oldest waiting job of `queue`, taken off the queue. */
  take(queue: string): QueuedJob | undefined {
    return this.queues.get(queue)?.shift();
  }
}
