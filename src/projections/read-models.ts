/**
 * Queries over projections' read models, with read-your-writes: a query given a `minPosition`
 * (a `globalPosition` from a command result) first waits until the projection has reached it —
 * with PARTITIONS > 1, until the projection's checkpoint in the partition the position names
 * (`<p>:<id>`; DESIGN.md §8). Waiters wake on the checkpoints the leaders announce
 * (`ProjectionStore.onCheckpoint`, one listener per partition's store however many wait), with a
 * state read every `backstopMs` in case an announcement was missed — not a poll per wait.
 * A document is read from its stream's partition; lists merge the partitions (merged-list.ts).
 */
import { ReadModelLagError } from '../errors.js';
import { mergedList } from './merged-list.js';
import { partitionOfPosition } from './partition-position.js';
import type { Projection, ReadModelDoc } from './projection.js';
import type { DocPage, ProjectionStore } from './projection-store.js';

/** How often a waiter reads the checkpoint itself, in case an announcement was missed. */
const BACKSTOP_MS = 1000;

/** One query waiting for a projection to reach a position in one partition. */
interface Waiter {
  readonly projection: string;
  wake(checkpoint: string): void;
}

/** Lag is counted up to this many events (`system.status`, `/metrics`), per partition. */
export const LAG_CAP = 1000;

/** One partition's checkpoint, lag and leader. */
export interface PartitionStatus {
  readonly partition: number;
  readonly position: string;
  readonly lagEvents: number;
  readonly leader?: string;
}

/**
 * One projection's position and lag, as `system.status` shows it. With PARTITIONS > 1 `position`
 * lists every partition's checkpoint (comma-separated, partition order), `lagEvents` adds theirs
 * up, and `partitions` has each.
 */
export interface ProjectionStatus {
  readonly name: string;
  readonly position: string;
  readonly lagEvents: number;
  readonly leader?: string;
  readonly partitions?: readonly PartitionStatus[];
}

/** What `ReadModels` queries. */
export interface ReadModelsOptions {
  /** Each partition's projection store, index = partition (one without partitions). */
  readonly stores: readonly ProjectionStore[];
  /** The projections queried, with the stream each document folds. */
  readonly projections: readonly Pick<Projection, 'name' | 'streamOf'>[];
  /** The partition of a stream (`Partitioning.of`); needed only with several stores. */
  readonly partitionOf?: (streamId: string) => number;
  /** COMMAND_TIMEOUT_MS: the longest a query waits for `minPosition`. */
  readonly waitMs: number;
  /** How often a waiting query reads the checkpoint itself (default 1 s). */
  readonly backstopMs?: number;
}

export class ReadModels {
  /** Waiters per partition. */
  private readonly waiters: Set<Waiter>[];
  /** Partitions whose store this instance listens to (the store's `close` ends it). */
  private readonly listening = new Set<number>();

  constructor(private readonly options: ReadModelsOptions) {
    this.waiters = options.stores.map(() => new Set());
  }

  /** Waits until `projection` has folded in `minPosition`; -32032 after the wait bound. */
  async reach(projection: string, minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    const partition = partitionOfPosition(minPosition, this.options.stores.length);
    const store = this.options.stores[partition]!;
    const waiters = this.listen(partition);
    let last = '0';
    const reached = (checkpoint: string) => {
      if (checkpoint !== '0' && store.reached(checkpoint, minPosition)) return true;
      last = checkpoint;
      return false;
    };
    let waiter: Waiter | undefined;
    const announced = new Promise<void>((resolve) => {
      waiter = { projection, wake: (cp) => reached(cp) && resolve() };
      waiters.add(waiter); // before the first read: a commit in between still wakes it
    });
    try {
      const deadline = Date.now() + this.options.waitMs;
      const backstopMs = this.options.backstopMs ?? BACKSTOP_MS;
      for (;;) {
        if (reached((await store.state(projection)).checkpoint)) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new ReadModelLagError(projection, minPosition, last);
        if (await Promise.race([announced.then(() => true), delay(Math.min(left, backstopMs))]))
          return;
      }
    } finally {
      waiters.delete(waiter!);
    }
  }

  async get(
    projection: string,
    id: string,
    minPosition?: string,
  ): Promise<ReadModelDoc | undefined> {
    await this.reach(projection, minPosition);
    return this.storeOf(projection, id).get(projection, id);
  }

  /** A page in id order over every partition; `nextCursor` is the last id, valid in all of them. */
  async list(projection: string, options: { limit: number; after?: string }): Promise<DocPage> {
    return mergedList(this.options.stores, projection, options);
  }

  /** Every projection's checkpoint, lag (capped at LAG_CAP per partition) and leader. */
  async status(): Promise<ProjectionStatus[]> {
    return Promise.all(
      this.options.projections.map(async ({ name }) => {
        const partitions = await Promise.all(
          this.options.stores.map((store, partition) => partitionStatus(store, name, partition)),
        );
        if (partitions.length === 1) {
          const { partition: _p, ...only } = partitions[0]!;
          return { name, ...only };
        }
        return {
          name,
          position: partitions.map((p) => p.position).join(','),
          lagEvents: partitions.reduce((sum, p) => sum + p.lagEvents, 0),
          partitions,
        };
      }),
    );
  }

  /** The store of the partition holding document `id` of `projection`. */
  private storeOf(projection: string, id: string): ProjectionStore {
    const { stores, projections, partitionOf } = this.options;
    if (stores.length === 1) return stores[0]!;
    const found = projections.find((p) => p.name === projection);
    if (!found || !partitionOf)
      throw new Error(`no partition routing for projection ${projection}`);
    return stores[partitionOf(found.streamOf(id))]!;
  }

  /** The waiters of `partition`, listening to its store's announcements from the first wait on. */
  private listen(partition: number): Set<Waiter> {
    const waiters = this.waiters[partition]!;
    if (!this.listening.has(partition)) {
      this.listening.add(partition);
      this.options.stores[partition]!.onCheckpoint((name, checkpoint) => {
        for (const waiter of waiters) if (waiter.projection === name) waiter.wake(checkpoint);
      });
    }
    return waiters;
  }
}

async function partitionStatus(
  store: ProjectionStore,
  name: string,
  partition: number,
): Promise<PartitionStatus> {
  const [state, lagEvents] = await Promise.all([store.state(name), store.lag(name, LAG_CAP)]);
  return {
    partition,
    position: state.checkpoint,
    lagEvents,
    ...(state.leader ? { leader: state.leader } : {}),
  };
}

/** Resolves false after `ms` (a timer that does not keep the process alive). */
function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());
}
