/**
 * The projection store port: a projection's lease, fence, checkpoint and generation, and its read
 * model. Adapters: Redis (Lua scripts), memory. Contract (test/contract/projection-store):
 * - One lease holder per projection at a time; every acquisition (and every takeover) increments
 *   the fence, so a stale leader is told apart from the current one.
 * - `commit` writes the batch and the new checkpoint only when the fence is the current one and the
 *   stored checkpoint is the one the batch started from; otherwise it writes nothing.
 * - Reads see one generation whole: the one current when the read started.
 */
import type { EventStore } from '../events/event-store.js';
import type { ReadModelDoc, ReadModelWrite } from './projection.js';

/** A held lease: who holds it and the fence its writes carry. */
export interface Lease {
  readonly owner: string;
  readonly fence: number;
}

/** A projection's stored state. */
export interface ProjectionState {
  /** Global position of the last event folded in (`"0"` before the first). */
  readonly checkpoint: string;
  /** The fence of the latest lease acquisition (0 before the first). */
  readonly fence: number;
  /** The read-model generation queries read. */
  readonly generation: number;
  /** The current lease holder, if the lease is alive. */
  readonly leader?: string;
}

/** One batch to commit. */
export interface CommitBatch {
  readonly fence: number;
  /** The checkpoint the batch was computed from; must equal the stored one. */
  readonly from: string;
  /** The checkpoint after the batch (the global position of its last event). */
  readonly to: string;
  readonly writes: readonly ReadModelWrite[];
  /** The generation written: the current one (live; must still be current) or the rebuild's. */
  readonly generation: number;
  /** A rebuild's batch: checked against the rebuild's checkpoint instead of the fence. */
  readonly rebuild?: boolean;
}

/** Why a commit wrote nothing: a newer lease holder exists, or the checkpoint moved on. */
export type CommitResult = 'ok' | 'fenced' | 'moved';

/** A page of read-model documents in id order. */
export interface DocPage {
  readonly docs: readonly (ReadModelDoc & { readonly id: string })[];
  /** Pass as `after` for the next page; absent at the end. */
  readonly nextCursor?: string;
}

/** The state of a rebuild in progress (`npm run replay`). */
export interface RebuildState {
  readonly generation: number;
  readonly checkpoint: string;
}

export interface ProjectionStore {
  /**
   * Takes the lease if it is free (or already `owner`'s) for `ttlMs`; `steal` takes it even from
   * another holder (a rebuild's last stretch). A new holder gets a new fence.
   */
  acquire(name: string, owner: string, ttlMs: number, steal?: boolean): Promise<Lease | undefined>;
  /** Extends a held lease; false when it was lost (expired and taken, or stolen). */
  renew(name: string, lease: Lease, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if still held. */
  release(name: string, lease: Lease): Promise<void>;
  state(name: string): Promise<ProjectionState>;
  commit(name: string, batch: CommitBatch): Promise<CommitResult>;
  /** One document of the current generation. */
  get(name: string, id: string): Promise<ReadModelDoc | undefined>;
  /** Documents of the current generation after `after` (exclusive) in id order. */
  list(name: string, options: { limit: number; after?: string }): Promise<DocPage>;
  /** Starts (or resumes) a rebuild into a fresh generation above every existing one. */
  beginRebuild(name: string): Promise<RebuildState>;
  /**
   * With the lease held under `fence`, makes the rebuilt generation current and its checkpoint the
   * projection's, in one step. Returns the generation replaced.
   */
  swap(name: string, fence: number): Promise<number>;
  /** Deletes every generation of the read model but the current one (and a rebuild's, if any). */
  dropOldGenerations(name: string): Promise<number>;
  /** Events in the log after the checkpoint, counted up to `cap`. */
  lag(name: string, cap: number): Promise<number>;
  /** True when `position` is at or past `minPosition` (positions are the store's own cursors). */
  reached(position: string, minPosition: string): boolean;
  /**
   * Calls `listener` with each checkpoint a live batch commits, whichever instance committed it
   * (the Redis store holds one subscription for all its listeners, made on the first). Best effort:
   * an announcement can be missed (a reconnect), so waiters also read `state` now and then.
   * Returns the function that removes the listener.
   */
  onCheckpoint(listener: CheckpointListener): () => void;
  /** Stops listening for checkpoints (the Redis subscription); the store's own connection stays. */
  close(): Promise<void>;
}

/** Hears a projection's new checkpoint. */
export type CheckpointListener = (name: string, checkpoint: string) => void;

/**
 * One partition as its projectors see it (DESIGN.md §8): the partition's own log and the store of
 * its leases, checkpoints and documents. With one partition: the event store and the one store.
 */
export interface ProjectionPartition {
  readonly partition: number;
  /** The partition's log; its positions are `<p>:<entry id>` when PARTITIONS > 1. */
  readonly events: EventStore;
  readonly store: ProjectionStore;
}
