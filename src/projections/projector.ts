/**
 * Runs one projection of one partition on exactly one instance at a time (DESIGN.md G4, §8).
 * Every instance runs a projector per (projection, partition); the one holding that partition's
 * lease follows the partition's log from its checkpoint and commits each batch with its fence, the
 * others stand by and try the lease every third of its TTL. A leader that loses its lease, or
 * whose commit is refused, stops and stands by again; so does one whose instance leads more than
 * its share of the projection's partitions (lease-share.ts), so the leases spread.
 */

import { closeOnce } from '../events/close-once.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, Subscription } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { projectionSpan } from '../tracing/hops.js';
import type { LeaseShare } from './lease-share.js';
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
  /** The partition whose log and store these are (absent: the only one). */
  readonly partition?: number;
  /** This instance's share of the partitions' leases (absent: compete for every one). */
  readonly share?: LeaseShare;
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

/** Its instance leads more partitions than its share: the lease goes to another instance. */
const YIELDED = 'leads more partitions than its share; left the lease to another instance';

/** One projection's leader election and fold loop on this instance. */
export class Projector {
  private closing = false;
  private lease?: Lease;
  private subscription?: Subscription;
  private wake: () => void = () => {};
  private readonly loop: Promise<void>;
  /** How many times this instance took the lease. */
  leaderships = 0;
  /** How many times it gave the lease up for another instance (lease-share.ts). */
  yields = 0;
  private yielding = false;
  /** The lease a renewal found lost (its subscription is closing). */
  private lost?: Lease;

  constructor(private readonly options: ProjectorOptions) {
    this.loop = this.run();
  }

  get name(): string {
    return this.options.projection.name;
  }

  /** The partition it projects (0 without partitions). */
  get partition(): number {
    return this.options.partition ?? 0;
  }

  /** `trainer-positions`, or `trainer-positions/3` for partition 3 of several, in log lines. */
  private get label(): string {
    return this.options.partition === undefined ? this.name : `${this.name}/${this.partition}`;
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
    const { store, leaseTtlMs, owner, logger, share } = this.options;
    while (!this.closing) {
      try {
        const lease =
          !share || (await share.mayLead(this.name))
            ? await store.acquire(this.name, owner, leaseTtlMs)
            : undefined;
        if (lease) await this.lead(lease);
      } catch (error) {
        if (!this.closing) logger.warn(`projection ${this.label}: ${String(error)}; retrying`);
      }
      await this.pause(leaseTtlMs / 3);
    }
  }

  private async lead(lease: Lease): Promise<void> {
    const { store, events, leaseTtlMs, logger, share } = this.options;
    this.lease = lease;
    this.leaderships += 1;
    share?.began(this.name);
    const renewal = setInterval(() => void this.renew(), leaseTtlMs / 3);
    try {
      const state = await store.state(this.name);
      logger.info(`projection ${this.label}: leading from ${state.checkpoint}`, {
        projection: this.name,
        ...(this.options.partition === undefined ? {} : { partition: this.partition }),
        fence: lease.fence,
        generation: state.generation,
        leaderChange: 1,
      });
      let checkpoint = state.checkpoint;
      this.subscription = events.subscribeAll(
        { after: checkpoint, batchSize: this.options.batchSize ?? 500 },
        async (batch) => {
          const to = batch.at(-1)!.globalPosition;
          const span = projectionSpan(this.name, batch); // a failed commit's span is dropped
          const result = await store.commit(this.name, {
            fence: lease.fence,
            from: checkpoint,
            to,
            generation: state.generation,
            writes: writesOf(this.options.projection, batch),
          });
          span?.end();
          if (result !== 'ok') throw new LostLease(`commit refused (${result})`);
          checkpoint = to;
        },
      );
      if (this.closing) await this.subscription.close();
      await this.subscription.done;
    } catch (error) {
      if (!(error instanceof LostLease)) throw error;
      logger.info(`projection ${this.label}: stepped down: ${error.message}`, {
        projection: this.name,
        fence: lease.fence,
      });
    } finally {
      clearInterval(renewal);
      this.subscription = undefined;
      this.lease = undefined;
      share?.ended(this.name, this.yielding);
      if (this.yielding) {
        this.yields += 1;
        logger.info(`projection ${this.label}: ${YIELDED}`, { projection: this.name });
      }
      this.yielding = false;
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
      if (this.lost === lease) return; // another renewal in flight already saw it
      this.lost = lease;
      this.options.logger.info(`projection ${this.label}: lease lost`, { fence: lease.fence });
      await subscription?.close();
      return;
    }
    const share = this.options.share;
    if (!held || !share) return;
    await share.refresh();
    if (this.lease === lease && !this.yielding && share.shouldYield(this.name)) {
      this.yielding = true;
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
