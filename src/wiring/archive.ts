/**
 * Wiring of the archive (DESIGN.md §9, `ARCHIVE_URL`): the PostgreSQL archive the backend opens
 * (reads stitch it below what Redis holds), and one archiver per partition, started with the
 * projectors, each competing for its partition's `archive` lease within the instance's share.
 * Its status goes to `system.status` and its gauges to `/metrics`.
 */
import {
  type ArchiveStatus,
  archiveStatus,
  registerArchiveMetrics,
} from '../archive/archive-status.js';
import { Archiver } from '../archive/archiver.js';
import type { EventArchive } from '../archive/event-archive.js';
import { PostgresEventArchive, withoutPassword } from '../archive/postgres-event-archive.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { InstanceRegistry } from '../ops/instance-registry.js';
import { LeaseShare } from '../projections/lease-share.js';
import type { Backend } from './backend.js';

/** The archive `ARCHIVE_URL` names, or undefined without one (nothing is archived). */
export function openArchive(config: Config, logger: Logger): EventArchive | undefined {
  if (!config.ARCHIVE_URL) return undefined;
  const log = logger.child({ component: 'archive' });
  const where = withoutPassword(config.ARCHIVE_URL);
  log.info(`archive of the log: PostgreSQL at ${where}`);
  return new PostgresEventArchive({
    url: config.ARCHIVE_URL,
    onError: (error) => log.warn(`archive connection: ${error.message}; reconnecting on next use`),
    onMigrated: (versions) => log.info(`archive schema migrated to version ${versions.at(-1)}`),
  });
}

/** An instance's archive parts (with `ARCHIVE_URL`). */
export interface ArchiveParts {
  /** Every partition's checkpoint, lag and leader. */
  status(): Promise<ArchiveStatus>;
  /** Starts an archiver per partition (each competes for its lease). */
  start(): Archiver[];
}

export function archivePartsFor(
  config: Config,
  backend: Backend,
  metrics: Metrics,
  logger: Logger,
): ArchiveParts | undefined {
  const { archive, redis } = backend;
  if (!archive) return undefined;
  const partitions = backend.projections;
  const several = partitions.length > 1;
  const share = new LeaseShare(
    partitions.length,
    redis && several
      ? async () => (await InstanceRegistry.live(redis, backend.partitioning.shared)).length
      : undefined,
  );
  const status = () => archiveStatus(archive, partitions);
  return {
    status,
    start: () => {
      const archivers = partitions.map(
        ({ partition, events, store }) =>
          new Archiver({
            archive,
            events,
            store,
            owner: config.SERVER_ID,
            leaseTtlMs: config.LEASE_TTL_MS,
            batchSize: config.ARCHIVE_BATCH,
            logger: logger.child({ component: 'archive' }),
            ...(several ? { partition, share } : {}),
          }),
      );
      registerArchiveMetrics(metrics, status, archivers);
      return archivers;
    },
  };
}
