/**
 * Queries over projections' read models, with read-your-writes: a query given a `minPosition`
 * (a `globalPosition` from a command result) first waits until the projection has reached it.
 */
import { ReadModelLagError } from '../errors.js';
import type { ReadModelDoc } from './projection.js';
import type { DocPage, ProjectionStore } from './projection-store.js';

const POLL_MS = 20;

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
  constructor(
    private readonly store: ProjectionStore,
    private readonly names: readonly string[],
    /** COMMAND_TIMEOUT_MS: the longest a query waits for `minPosition`. */
    private readonly waitMs: number,
  ) {}

  /** Waits until `projection` has folded in `minPosition`; -32032 after the wait bound. */
  async reach(projection: string, minPosition: string | undefined): Promise<void> {
    if (minPosition === undefined) return;
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const { checkpoint } = await this.store.state(projection);
      if (checkpoint !== '0' && this.store.reached(checkpoint, minPosition)) return;
      if (Date.now() >= deadline) throw new ReadModelLagError(projection, minPosition, checkpoint);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
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
