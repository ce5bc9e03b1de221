/**
 * Runs one projection on exactly one instance at a time (DESIGN.md G4). Every instance runs a
 * projector; the one holding the lease follows the global log from the checkpoint and commits each
 * batch with its fence, the others stand by and try the lease every third of its TTL. A leader
 * that loses its lease, or whose commit is refused, stops and stands by again.
 */

import { closeOnce } from '../events/close-once.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, Subscription } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { coalesceWrites, type Projection, type ReadModelWrite } from './projection.js';
import type { Lease, ProjectionStore } from './projection-store.js';

/** How a projector runs. */
export interface ProjectorOptions {
  readonly events: EventStore;
  readonly store: ProjectionStore;
  readonly projection: Projection;
  /** This instance's SERVER_ID. */
  readonly owner: string;
  /** LEASE_TTL_MS */
  readonly leaseTtlMs: number;
  readonly logger: Logger;
  /** Events read and committed at once (default 500). */
  readonly batchSize?: number;
}

/** The writes of a batch of events, in order, for a projection. */
export function writesOf(
  projection: Projection,
  events: readonly RecordedEvent[],
): ReadModelWrite[] {
  const types = new Set(projection.eventTypes);
  return coalesceWrites(
    events.filter((e) => types.has(e.type)).flatMap((e) => projection.project(e)),
  );
}

class LostLease extends Error {}

/** One projection's leader election and fold loop on this instance. */
export class Projector {
  private closing = false;
  private lease?: Lease;
  private subscription?: Subscription;
  private wake: () => void = () => {};
  private readonly loop: Promise<void>;
  /** How many times this instance took the lease. */
  leaderships = 0;

  constructor(private readonly options: ProjectorOptions) {
    this.loop = this.run();
  }

  get name(): string {
    return this.options.projection.name;
  }

  /** True while this instance leads the projection. */
  get leading(): boolean {
    return this.lease !== undefined;
  }

  /** Stops following, gives the lease up, and resolves once nothing runs. */
  readonly close = closeOnce(async (): Promise<void> => {
    this.closing = true;
    this.wake();
    await this.subscription?.close();
    await this.loop;
  });

  private async run(): Promise<void> {
    const { store, leaseTtlMs, owner, logger } = this.options;
    while (!this.closing) {
      try {
        const lease = await store.acquire(this.name, owner, leaseTtlMs);
        if (lease) await this.lead(lease);
      } catch (error) {
        if (!this.closing) logger.warn(`projection ${this.name}: ${String(error)}; retrying`);
      }
      await this.pause(leaseTtlMs / 3);
    }
  }

  private async lead(lease: Lease): Promise<void> {
    const { store, events, leaseTtlMs, logger } = this.options;
    this.lease = lease;
    this.leaderships += 1;
    const renewal = setInterval(() => void this.renew(), leaseTtlMs / 3);
    try {
      const state = await store.state(this.name);
      logger.info(`projection ${this.name}: leading from ${state.checkpoint}`, {
        projection: this.name,
        fence: lease.fence,
        generation: state.generation,
        leaderChange: 1,
      });
      let checkpoint = state.checkpoint;
      this.subscription = events.subscribeAll(
        { after: checkpoint, batchSize: this.options.batchSize ?? 500 },
        async (batch) => {
          const to = batch.at(-1)!.globalPosition;
          const result = await store.commit(this.name, {
            fence: lease.fence,
            from: checkpoint,
            to,
            generation: state.generation,
            writes: writesOf(this.options.projection, batch),
          });
          if (result !== 'ok') throw new LostLease(`commit refused (${result})`);
          checkpoint = to;
        },
      );
      if (this.closing) await this.subscription.close();
      await this.subscription.done;
    } catch (error) {
      if (!(error instanceof LostLease)) throw error;
      logger.info(`projection ${this.name}: stepped down: ${error.message}`, {
        projection: this.name,
        fence: lease.fence,
      });
    } finally {
      clearInterval(renewal);
      this.subscription = undefined;
      this.lease = undefined;
      await store.release(this.name, lease).catch(() => {});
    }
  }

  private async renew(): Promise<void> {
    const { lease, subscription } = this;
    if (!lease) return;
    const held = await this.options.store
      .renew(this.name, lease, this.options.leaseTtlMs)
      .catch(() => true); // Redis unreachable: the commit's fence check still protects the writes
    if (!held && this.lease === lease) {
      this.options.logger.info(`projection ${this.name}: lease lost`, { fence: lease.fence });
      await subscription?.close();
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms * (0.75 + Math.random() * 0.5));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
