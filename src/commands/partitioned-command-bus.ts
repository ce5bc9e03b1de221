/**
 * The `CommandBus` over PARTITIONS partitions (DESIGN.md §8): one single-partition bus per
 * partition, composed here. A command is enqueued into its target stream's partition
 * (`metadata.streamId`, set by the sender from the definition's `streamId`) and is deduplicated,
 * handled, committed and answered there: its entry, sent marker, outcome and reply channel all
 * carry that partition's tag. Every instance's worker serves every partition (a worker, with a
 * blocking reader of its own, per partition).
 *
 * `status`, `redrive` and `deadLetters` work from the command id and user alone: they look in
 * every partition (one small read each, in parallel) rather than keep an index, since an index
 * would be a second write in another slot that could disagree with the partition's own keys.
 */
import { NotFoundError } from '../errors.js';
import { closeOnce } from '../events/close-once.js';
import type {
  CommandBus,
  CommandEnvelope,
  CommandStatus,
  DeadLetter,
  EntryProcessor,
  SendOptions,
  SendResult,
  Worker,
} from './command-bus.js';
import type { WorkerStats } from './redis-worker.js';

/** What the facade needs of each partition's bus (RedisCommandBus). */
export interface PartitionBus extends CommandBus {
  /** Subscribes to the partition's reply channel. */
  start(): Promise<void>;
  serve(processor: EntryProcessor): Promise<Worker & { close(graceMs?: number): Promise<void> }>;
  backlog(): Promise<{ pending: number; lag: number; dead: number }>;
}

/** The partition of a command, by its target stream; throws for a command without one. */
export function partitionOfCommand(
  command: CommandEnvelope,
  partitionOf: (streamId: string) => number,
): number {
  const { streamId } = command.metadata;
  if (streamId === undefined) {
    throw new Error(
      `command ${command.type} ${command.id} has no metadata.streamId: with PARTITIONS > 1 a command goes to its target stream's partition; send it through CommandSender (it sets the definition's streamId)`,
    );
  }
  return partitionOf(streamId);
}

/** The workers of every partition as one: stats summed, closed together. */
class PartitionedWorker implements Worker {
  constructor(
    private readonly workers: readonly (Worker & { close(graceMs?: number): Promise<void> })[],
  ) {}

  get stats(): WorkerStats {
    const sum: WorkerStats = { handled: 0, retried: 0, dead: 0, reclaimed: 0, redelivered: 0 };
    for (const worker of this.workers) {
      if (!('stats' in worker)) continue;
      const stats = worker.stats as WorkerStats;
      for (const name of Object.keys(sum) as (keyof WorkerStats)[]) sum[name] += stats[name];
    }
    return sum;
  }

  async close(graceMs?: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close(graceMs)));
  }
}

/** The partitioned `CommandBus` (see the module comment). */
export class PartitionedCommandBus implements CommandBus {
  /**
   * @param partitions each partition's bus, in partition order, on that partition's keys.
   * @param partitionOf the partition of a stream (`Partitioning.of`).
   */
  constructor(
    readonly partitions: readonly PartitionBus[],
    private readonly partitionOf: (streamId: string) => number,
  ) {}

  /** Subscribes to every partition's reply channel. */
  async start(): Promise<void> {
    await Promise.all(this.partitions.map((bus) => bus.start()));
  }

  send(command: CommandEnvelope, options?: SendOptions): Promise<SendResult> {
    const p = partitionOfCommand(command, this.partitionOf);
    return this.partitions[p]!.send(command, options);
  }

  async serve(processor: EntryProcessor): Promise<PartitionedWorker> {
    return new PartitionedWorker(
      await Promise.all(this.partitions.map((bus) => bus.serve(processor))),
    );
  }

  /** Looks in every partition: a handled or dead outcome wins, then pending, else unknown. */
  async status(userId: string, commandId: string): Promise<CommandStatus> {
    const found = await Promise.all(this.partitions.map((bus) => bus.status(userId, commandId)));
    return (
      found.find((s) => s.status === 'handled' || s.status === 'dead') ??
      found.find((s) => s.status === 'pending') ?? { status: 'unknown' }
    );
  }

  /** Every partition's newest dead letters, merged newest first. */
  async deadLetters(limit = 100): Promise<readonly DeadLetter[]> {
    const found = await Promise.all(this.partitions.map((bus) => bus.deadLetters(limit)));
    return found
      .flat()
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
      .slice(0, limit);
  }

  /** Redrives the dead command in whichever partition holds it (each partition is asked). */
  async redrive(userId: string, commandId: string): Promise<void> {
    const tried = await Promise.allSettled(
      this.partitions.map((bus) => bus.redrive(userId, commandId)),
    );
    if (tried.some((t) => t.status === 'fulfilled')) return;
    const failure = tried.find(
      (t): t is PromiseRejectedResult =>
        t.status === 'rejected' && !(t.reason instanceof NotFoundError),
    );
    if (failure) throw failure.reason;
    throw new NotFoundError('dead command', commandId);
  }

  /** Summed over the partitions (COMMAND_BACKLOG_MAX bounds each partition on its own). */
  async backlog(): Promise<{ pending: number; lag: number; dead: number }> {
    const each = await Promise.all(this.partitions.map((bus) => bus.backlog()));
    return each.reduce(
      (sum, b) => ({
        pending: sum.pending + b.pending,
        lag: sum.lag + b.lag,
        dead: sum.dead + b.dead,
      }),
      { pending: 0, lag: 0, dead: 0 },
    );
  }

  readonly close = closeOnce(async (): Promise<void> => {
    await Promise.all(this.partitions.map((bus) => bus.close()));
  });
}
