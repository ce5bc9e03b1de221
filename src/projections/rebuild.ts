/**
 * Rebuilds a projection from the start of the global log into a new generation of its read model
 * while instances keep serving the current one (`npm run replay`). Near the end it takes the lease
 * (fencing the live leader out), folds the last stretch, and swaps the generation and checkpoint
 * in one step; the old generation is then deleted and the live leader resumes on the new one.
 */
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, LogPage } from '../events/event-store.js';
import type { Projection } from './projection.js';
import type { Lease, ProjectionStore } from './projection-store.js';
import { writesOf } from './projector.js';

/** Events folded into one commit (writes to one document within it become one write). */
const COMMIT_EVENTS = 10_000;

/** Where a rebuild is, for its progress line. */
export interface RebuildProgress {
  readonly phase: 'catch-up' | 'last stretch' | 'swapped';
  /** Events folded by this run. */
  readonly events: number;
  readonly generation: number;
}

export interface RebuildOptions {
  readonly events: EventStore;
  readonly store: ProjectionStore;
  readonly projection: Projection;
  /** Who holds the lease for the last stretch (e.g. `replay-<host>-<pid>`). */
  readonly owner: string;
  /** LEASE_TTL_MS */
  readonly leaseTtlMs: number;
  /** Events per read and commit (at most 1000). */
  readonly batchSize?: number;
  onProgress?(progress: RebuildProgress): void;
}

/** What a finished rebuild did. */
export interface RebuildResult {
  readonly generation: number;
  readonly replaced: number;
  readonly events: number;
  readonly checkpoint: string;
  /** Keys (Redis) or generations (memory) of older generations deleted. */
  readonly dropped: number;
}

/** Runs a rebuild to the swap; a rebuild interrupted earlier is resumed where it stopped. */
export async function rebuild(options: RebuildOptions): Promise<RebuildResult> {
  const { store, projection, owner, leaseTtlMs } = options;
  const name = projection.name;
  const started = await store.beginRebuild(name);
  const run = new Fold(options, started.generation, started.checkpoint);
  await run.untilEnd('catch-up');
  const lease = await store.acquire(name, owner, leaseTtlMs, true);
  if (!lease) throw new Error(`could not take the lease of ${name}`);
  try {
    await run.untilEnd('last stretch', lease);
    const replaced = await store.swap(name, lease.fence);
    options.onProgress?.({ phase: 'swapped', events: run.count, generation: run.generation });
    const dropped = await store.dropOldGenerations(name);
    return {
      generation: run.generation,
      replaced,
      events: run.count,
      checkpoint: run.checkpoint,
      dropped,
    };
  } finally {
    await store.release(name, lease);
  }
}

/** Folds pages of the log into the rebuild's generation, reading the next page while committing. */
class Fold {
  count = 0;
  constructor(
    private readonly options: RebuildOptions,
    readonly generation: number,
    public checkpoint: string,
  ) {}

  async untilEnd(phase: RebuildProgress['phase'], lease?: Lease): Promise<void> {
    const { events } = this.options;
    const limit = this.options.batchSize ?? 1000;
    let next: Promise<LogPage> = events.readAll({ after: this.checkpoint, limit });
    let pending: RecordedEvent[] = [];
    for (;;) {
      const page = await next;
      if (!page.isEnd) next = events.readAll({ after: page.nextPosition, limit });
      pending.push(...page.events);
      // several pages per commit: writes to the same document coalesce into one
      if (pending.length >= COMMIT_EVENTS || (page.isEnd && pending.length > 0)) {
        await this.commit(pending, page.nextPosition, lease);
        pending = [];
      }
      this.options.onProgress?.({ phase, events: this.count, generation: this.generation });
      if (page.isEnd) return;
    }
  }

  private async commit(batch: RecordedEvent[], to: string, lease?: Lease): Promise<void> {
    const { store, projection, leaseTtlMs } = this.options;
    const result = await store.commit(projection.name, {
      fence: lease?.fence ?? 0,
      from: this.checkpoint,
      to,
      generation: this.generation,
      rebuild: true,
      writes: writesOf(projection, batch),
    });
    if (result !== 'ok') {
      throw new Error(
        `another rebuild of ${projection.name} is writing generation ${this.generation}; run one at a time`,
      );
    }
    this.checkpoint = to;
    this.count += batch.length;
    if (lease && !(await store.renew(projection.name, lease, leaseTtlMs))) {
      throw new Error(
        `lost the lease of ${projection.name} during the last stretch; run replay again`,
      );
    }
  }
}
