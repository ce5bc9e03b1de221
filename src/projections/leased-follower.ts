/**
 * One follower of a partition's log that runs on exactly one instance at a time: the lease loop
 * shared by projectors (projector.ts) and archivers (archive/archiver.ts). Every instance runs one
 * per (follower, partition); the one holding the lease follows the log from where the subclass
 * says and commits each batch with the lease's fence, the others stand by and try the lease every
 * third of its TTL. A leader that loses its lease, or whose commit is refused, stops and stands
 * by again; so does one whose instance leads more than its share (lease-share.ts).
 */
import { closeOnce } from '../events/close-once.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, Subscription } from '../events/event-store.js';
import type { Logger } from '../log.js';
import type { LeaseShare } from './lease-share.js';
import type { Lease, ProjectionStore } from './projection-store.js';

/** How a leased follower runs. */
export interface LeasedFollowerOptions {
  readonly events: EventStore;
  /** Where the lease (and its fence) is kept. */
  readonly store: ProjectionStore;
  /** This instance's SERVER_ID. */
  readonly owner: string;
  /** LEASE_TTL_MS */
  readonly leaseTtlMs: number;
  readonly logger: Logger;
  /** Events read and committed at once (default 500). */
  readonly batchSize?: number;
  /** The partition whose log this is (absent: the only one). */
  readonly partition?: number;
  /** This instance's share of the partitions' leases (absent: compete for every one). */
  readonly share?: LeaseShare;
}

/** Where a leader starts: the log position to follow after, and fields for its log line. */
export interface FollowStart {
  readonly after: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** Thrown by `commit` when the batch was refused: the leader steps down. */
export class LostLease extends Error {}

/** Its instance leads more partitions than its share: the lease goes to another instance. */
const YIELDED = 'leads more partitions than its share; left the lease to another instance';

export abstract class LeasedFollower {
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

  constructor(protected readonly options: LeasedFollowerOptions) {
    // started once the subclass is built (its fields are read by the loop)
    this.loop = Promise.resolve().then(() => this.run());
  }

  /** The lease's name in the store (a projection's name). */
  abstract get name(): string;
  /** Who is speaking in log lines, e.g. `projection trainer-positions/3`. */
  protected abstract get label(): string;
  /** Fields every log line carries, e.g. `{ projection: 'trainer-positions' }`. */
  protected abstract get fields(): Readonly<Record<string, unknown>>;
  /** Reads where to follow from, under a freshly taken lease. */
  protected abstract begin(lease: Lease): Promise<FollowStart>;
  /** Commits a batch under the lease; throws `LostLease` when it is refused. */
  protected abstract commit(lease: Lease, batch: readonly RecordedEvent[]): Promise<void>;

  /** The partition it follows (0 without partitions). */
  get partition(): number {
    return this.options.partition ?? 0;
  }

  /** True while this instance holds the lease. */
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
        if (!this.closing) logger.warn(`${this.label}: ${String(error)}; retrying`);
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
      const start = await this.begin(lease);
      logger.info(`${this.label}: leading from ${start.after}`, {
        ...this.fields,
        ...(this.options.partition === undefined ? {} : { partition: this.partition }),
        fence: lease.fence,
        ...start.fields,
        leaderChange: 1,
      });
      this.subscription = events.subscribeAll(
        { after: start.after, batchSize: this.options.batchSize ?? 500 },
        (batch) => this.commit(lease, batch),
      );
      if (this.closing) await this.subscription.close();
      await this.subscription.done;
    } catch (error) {
      if (!(error instanceof LostLease)) throw error;
      logger.info(`${this.label}: stepped down: ${error.message}`, {
        ...this.fields,
        fence: lease.fence,
      });
    } finally {
      clearInterval(renewal);
      this.subscription = undefined;
      this.lease = undefined;
      share?.ended(this.name, this.yielding);
      if (this.yielding) {
        this.yields += 1;
        logger.info(`${this.label}: ${YIELDED}`, this.fields);
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
      this.options.logger.info(`${this.label}: lease lost`, { fence: lease.fence });
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
