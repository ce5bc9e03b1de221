/**
 * Copies one partition's log into the archive, in order, on exactly one instance at a time
 * (DESIGN.md §9): a leased follower like a projector (projections/leased-follower.ts), its lease
 * `archive` kept beside the projections' in the partition's projection store. A leader starts
 * after the archive's own checkpoint (`archivedUpTo`, read from the archive, not Redis) and writes
 * each batch with its fence; the archive writes the batch and its checkpoint in one transaction
 * and refuses a stale fence, so each event is archived exactly once whoever dies when.
 */
import type { RecordedEvent } from '../events/envelope.js';
import { START } from '../events/event-store.js';
import { partitionPosition } from '../events/partition-positions.js';
import {
  type FollowStart,
  LeasedFollower,
  type LeasedFollowerOptions,
  LostLease,
} from '../projections/leased-follower.js';
import { entryIdOf } from '../projections/partition-position.js';
import type { Lease } from '../projections/projection-store.js';
import type { ArchivedEvent, EventArchive } from './event-archive.js';

/** The archiver's lease in each partition's projection store. */
export const ARCHIVE_LEASE = 'archive';

export interface ArchiverOptions extends LeasedFollowerOptions {
  readonly archive: EventArchive;
}

/** A batch of a partition's log as the archive stores it: bare entry ids, partition apart. */
export function toArchived(partition: number, batch: readonly RecordedEvent[]): ArchivedEvent[] {
  return batch.map((event) => {
    const entryId = entryIdOf(event.globalPosition);
    return { partition, entryId, event: { ...event, globalPosition: entryId } };
  });
}

export class Archiver extends LeasedFollower {
  /** Events this instance archived (while it led). */
  archived = 0;

  constructor(private readonly archiverOptions: ArchiverOptions) {
    super(archiverOptions);
  }

  get name(): string {
    return ARCHIVE_LEASE;
  }

  /** `archiver`, or `archiver/3` for partition 3 of several, in log lines. */
  protected get label(): string {
    const { partition } = this.options;
    return partition === undefined ? 'archiver' : `archiver/${partition}`;
  }

  protected get fields(): Readonly<Record<string, unknown>> {
    return { component: 'archive' };
  }

  protected async begin(): Promise<FollowStart> {
    const upTo = await this.archiverOptions.archive.archivedUpTo(this.partition);
    if (upTo === '0-0') return { after: START };
    const several = this.options.partition !== undefined;
    return { after: several ? partitionPosition(this.partition, upTo) : upTo };
  }

  protected async commit(lease: Lease, batch: readonly RecordedEvent[]): Promise<void> {
    const events = toArchived(this.partition, batch);
    if (!(await this.archiverOptions.archive.write(this.partition, lease.fence, events))) {
      throw new LostLease(
        `the archive holds a newer fence than ${lease.fence} (another instance took over)`,
      );
    }
    this.archived += events.length;
  }
}
