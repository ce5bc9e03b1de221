/**
 * Wiring of the tiers (DESIGN.md §9): which partitions' reads stitch the archive, and the
 * retention trimmers (one per partition on every instance, see src/events/trimmer.ts), with the
 * start-up line that says what retention keeps — and, without an archive, what it deletes for good.
 */
import type { EventArchive } from '../archive/event-archive.js';
import type { Config } from '../config.js';
import type { TierSettings } from '../events/log-tiers.js';
import { NO_SNAPSHOTS, type SnapshotVersions, Trimmer } from '../events/trimmer.js';
import type { Logger } from '../log.js';
import { projectionsFor } from '../projections/index.js';
import type { Backend } from './backend.js';

/** How often each instance trims each partition. */
const TRIM_INTERVAL_MS = 1000;

/** A partition's tiers: undefined when nothing is ever trimmed (no archive, no LOG_RETENTION_MS). */
export function tierSettingsFor(
  config: Pick<Config, 'LOG_RETENTION_MS'>,
  archive: EventArchive | undefined,
  partition: number,
): TierSettings | undefined {
  if (!archive && config.LOG_RETENTION_MS === undefined) return undefined;
  return archive ? { archive, partition } : { partition };
}

/** Running retention: stopped before the store closes. */
export interface Retention {
  close(): Promise<void>;
}

/**
 * Starts a trimmer per partition when retention is on (an archive, or LOG_RETENTION_MS on Redis),
 * and logs what it keeps; undefined (and a line saying why) when nothing is trimmed.
 */
export function startRetention(
  config: Config,
  backend: Pick<Backend, 'redis' | 'partitioning' | 'archive'>,
  logger: Logger,
  snapshots: SnapshotVersions = NO_SNAPSHOTS,
): Retention | undefined {
  const log = logger.child({ component: 'retention' });
  const { redis, archive, partitioning } = backend;
  const retentionMs = config.LOG_RETENTION_MS;
  if (!redis || (!archive && retentionMs === undefined)) {
    if (retentionMs !== undefined) {
      log.warn('LOG_RETENTION_MS is ignored: the in-memory store keeps everything until it stops');
    }
    return undefined;
  }
  if (archive) {
    log.info(
      'retention on: the log is trimmed below what is archived, projected by every projection' +
        (retentionMs === undefined ? '' : ' and older than LOG_RETENTION_MS') +
        '; reads find the rest in the archive',
      { ...(retentionMs === undefined ? {} : { retentionMs }) },
    );
  } else {
    log.warn(
      `LOG_RETENTION_MS=${retentionMs} without ARCHIVE_URL: events older than that (once every projection has them) are deleted from Redis for good — events.read, events.readAll and npm run replay no longer see them; set ARCHIVE_URL to keep the whole history`,
      { retentionMs },
    );
  }
  const projections = projectionsFor(config).map((p) => p.name);
  const trimmers = partitioning.keys.map((keys, partition) =>
    new Trimmer({
      redis,
      keys,
      partition,
      ...(archive ? { archive } : {}),
      ...(retentionMs === undefined ? {} : { retentionMs }),
      projections,
      snapshots,
      logger: log,
    }).start(TRIM_INTERVAL_MS),
  );
  return {
    close: async () => {
      await Promise.all(trimmers.map((t) => t.close()));
    },
  };
}
