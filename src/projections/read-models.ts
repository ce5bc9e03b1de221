/**
 * Queries over projections' read models, with read-your-writes: a query given a `minPosition`
 * (a `globalPosition` from a command result) first waits until the projection has reached it.
 * Waiters wake on the checkpoints the leader announces (`ProjectionStore.onCheckpoint`, one
 * listener per instance however many wait), with a state read every `backstopMs` in case an
 * announcement was missed — not a poll per wait.
 */
import { ReadModelLagError } from '../errors.js';
import type { ReadModelDoc } from './projection.js';
import type { DocPage, ProjectionStore } from './projection-store.js';

/** How often a waiter reads the checkpoint itself, in case an announcement was missed. */
const BACKSTOP_MS = 1000;

/** One query waiting for a projection to reach a position. */
interface Waiter {
  readonly projection: string;
  readonly minPosition: string;
  wake(checkpoint: string): void;
}

/** Lag is counted up to this many events (`system.status`, `/metrics`). */
export const LAG_CAP = 1000;

/** One projection's position and lag, as `system.status` shows it. */
export interface ProjectionStatus {
  readonly name: string;
  readonly position: string;
  readonly lagEvents: number;
  readonly leader?: string;
}

export class ReadModels {
  private readonly waiters = new Set<Waiter>();
  /** Set once this instance listens for checkpoints (the store's `close` ends it). */
  private listening = false;

  constructor(
    private readonly store: ProjectionStore,
    private readonly names: readonly string[],
    /** COMMAND_TIMEOUT_MS: the longest a query waits for `minPosition`. */
    private readonly waitMs: number,
    /** How often a waiting query reads the checkpoint itself (default 1 s). */
    private readonly backstopMs = BACKSTOP_MS,
  ) {}

  /** Waits until `projection` has folded in `minPosition`; -32032 after the wait bound. */
  async reach(projection: string, minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    if (!this.listening) {
      this.listening = true;
      this.store.onCheckpoint((name, checkpoint) => {
        for (const waiter of this.waiters) if (waiter.projection === name) waiter.wake(checkpoint);
      });
    }
    let last = '0';
    const reached = (checkpoint: string) => {
      if (checkpoint !== '0' && this.store.reached(checkpoint, minPosition)) return true;
      last = checkpoint;
      return false;
    };
    let waiter: Waiter | undefined;
    const announced = new Promise<void>((resolve) => {
      waiter = { projection, minPosition, wake: (cp) => reached(cp) && resolve() };
      this.waiters.add(waiter); // before the first read: a commit in between still wakes it
    });
    try {
      const deadline = Date.now() + this.waitMs;
      for (;;) {
        if (reached((await this.store.state(projection)).checkpoint)) return;
        const left = deadline - Date.now();
        if (left <= 0) throw new ReadModelLagError(projection, minPosition, last);
        if (
          await Promise.race([announced.then(() => true), delay(Math.min(left, this.backstopMs))])
        )
          return;
      }
    } finally {
      this.waiters.delete(waiter!);
    }
  }

  async get(
    projection: string,
    id: string,
    minPosition?: string,
  ): Promise<ReadModelDoc | undefined> {
    await this.reach(projection, minPosition);
    return this.store.get(projection, id);
  }

  async list(projection: string, options: { limit: number; after?: string }): Promise<DocPage> {
    return this.store.list(projection, options);
  }

  /** Every projection's checkpoint, lag (capped at LAG_CAP) and leader. */
  async status(): Promise<ProjectionStatus[]> {
    return Promise.all(
      this.names.map(async (name) => {
        const [state, lagEvents] = await Promise.all([
          this.store.state(name),
          this.store.lag(name, LAG_CAP),
        ]);
        return {
          name,
          position: state.checkpoint,
          lagEvents,
          ...(state.leader ? { leader: state.leader } : {}),
        };
      }),
    );
  }
}

/** Resolves false after `ms` (a timer that does not keep the process alive). */
function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());
}
