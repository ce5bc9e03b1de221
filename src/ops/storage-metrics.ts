/**
 * Storage metrics (issue 15): what snapshots did, Redis's memory (`INFO memory`) and the size of
 * each key family of a partition, sampled with MEMORY USAGE (bounded work per scrape).
 */
import type { SnapshotStats } from '../commands/entity.js';
import type { Metrics } from '../metrics.js';
import { mirror } from './command-metrics.js';

/** Counts snapshots loaded, rebuilt (not trusted) and written on this instance. */
export function meterSnapshots(metrics: Metrics): SnapshotStats {
  const stats: SnapshotStats = { loaded: 0, rebuilt: 0, saved: 0 };
  mirror(
    metrics,
    'streamcast_snapshots_loaded_total',
    'Entities loaded from a snapshot plus the tail of their stream',
    () => stats.loaded,
  );
  mirror(
    metrics,
    'streamcast_snapshots_rebuilt_total',
    'Snapshots not trusted (corrupt, another schema, beyond the stream) and rebuilt from the events',
    () => stats.rebuilt,
  );
  mirror(
    metrics,
    'streamcast_snapshots_saved_total',
    'Snapshots written (every SNAPSHOT_EVERY events of an entity)',
    () => stats.saved,
  );
  return stats;
}
