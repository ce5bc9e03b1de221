/**
 * How far each partition is archived, as `system.status` and `/metrics` show it: the archive's
 * checkpoint, the events of the log after it (counted up to LAG_CAP, like a projection's lag) and
 * the instance holding the archiver's lease. An unreachable archive is a status too, not a failure.
 */
import { START } from '../events/event-store.js';
import { partitionPosition } from '../events/partition-positions.js';
import type { Metrics } from '../metrics.js';
import type { ProjectionPartition } from '../projections/projection-store.js';
import { LAG_CAP } from '../projections/read-models.js';
import { ARCHIVE_LEASE, type Archiver } from './archiver.js';
import type { EventArchive } from './event-archive.js';

/** One partition's archive checkpoint, lag and archiver. */
export interface ArchivePartitionStatus {
  readonly partition: number;
  /** The newest log entry id archived (`0-0` before the first). */
  readonly archivedUpTo: string;
  /** Events in the partition's log after it, counted up to 1000. */
  readonly lagEvents: number;
  /** SERVER_ID holding the archiver's lease. */
  readonly leader?: string;
}

export interface ArchiveStatus {
  readonly partitions: readonly ArchivePartitionStatus[];
  /** Why the archive could not be read (the partitions are then empty). */
  readonly error?: string;
}

async function partitionStatus(
  archive: EventArchive,
  { partition, events, store }: ProjectionPartition,
  several: boolean,
): Promise<ArchivePartitionStatus> {
  const [archivedUpTo, state] = await Promise.all([
    archive.archivedUpTo(partition),
    store.state(ARCHIVE_LEASE),
  ]);
  const position = several ? partitionPosition(partition, archivedUpTo) : archivedUpTo;
  const page = await events.readAll({
    after: archivedUpTo === '0-0' ? START : position,
    limit: LAG_CAP,
  });
  return {
    partition,
    archivedUpTo,
    lagEvents: page.events.length,
    ...(state.leader ? { leader: state.leader } : {}),
  };
}

/** Every partition's archive status, in partition order. */
export async function archiveStatus(
  archive: EventArchive,
  partitions: readonly ProjectionPartition[],
): Promise<ArchiveStatus> {
  try {
    const several = partitions.length > 1;
    return {
      partitions: await Promise.all(partitions.map((p) => partitionStatus(archive, p, several))),
    };
  } catch (error) {
    return { partitions: [], error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Archive gauges for `/metrics`, read at scrape time: per partition the lag in events (capped),
 * the checkpoint (ms of the newest archived entry), whether this instance leads its archiver, and
 * whether the archive answered.
 */
export function registerArchiveMetrics(
  metrics: Metrics,
  status: () => Promise<ArchiveStatus>,
  archivers: readonly Archiver[],
): void {
  const labels = (partition: number) => ({ partition: String(partition) });
  // the gauges are collected together (in parallel): one status read serves one scrape
  let read: { at: number; status: Promise<ArchiveStatus> } | undefined;
  const current = () => {
    if (!read || Date.now() - read.at > 1000) read = { at: Date.now(), status: status() };
    return read.status;
  };
  metrics.gauge({
    name: 'streamcast_archive_lag_events',
    help: 'Events in the log after the archive checkpoint (counted up to 1000 per partition)',
    labelNames: ['partition'],
    async collect() {
      for (const p of (await current()).partitions) this.set(labels(p.partition), p.lagEvents);
    },
  });
  metrics.gauge({
    name: 'streamcast_archive_up',
    help: '1 when the archive (PostgreSQL, ARCHIVE_URL) answered the last scrape, else 0',
    async collect() {
      this.set((await current()).error ? 0 : 1);
    },
  });
  metrics.gauge({
    name: 'streamcast_archive_checkpoint',
    help: 'The archive checkpoint per partition: the ms timestamp of the newest archived log entry',
    labelNames: ['partition'],
    async collect() {
      for (const p of (await current()).partitions) {
        this.set(labels(p.partition), Number(p.archivedUpTo.split('-')[0]));
      }
    },
  });
  metrics.gauge({
    name: 'streamcast_archive_leader',
    help: "1 while this instance holds the partition's archiver lease",
    labelNames: ['partition'],
    collect() {
      for (const a of archivers) this.set(labels(a.partition), a.leading ? 1 : 0);
    },
  });
}
