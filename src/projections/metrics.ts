import type { Metrics } from '../metrics.js';
import { entryIdOf } from './partition-position.js';
import type { Projector } from './projector.js';
import type { ReadModels } from './read-models.js';

/** The millisecond part of a Redis position (`[<p>:]<ms>-<seq>`), or the count of a memory one. */
function positionNumber(position: string): number {
  return Number(entryIdOf(position).split('-')[0]);
}

/**
 * Projection gauges for `/metrics`, read at scrape time: each projection's lag in events (capped
 * like `system.status`), its checkpoint (on Redis the time, in ms, of the last event folded in)
 * and whether this instance leads it. With PARTITIONS > 1 each series has a `partition` label
 * too (one partition keeps today's series).
 */
export function registerProjectionMetrics(
  metrics: Metrics,
  readModels: ReadModels,
  projectors: readonly Projector[],
): void {
  const several = projectors.some((p) => p.partition > 0);
  const labels = (projection: string, partition: number) =>
    several ? { projection, partition: String(partition) } : { projection };
  // registered first, so its one status read per scrape also fills the checkpoint gauge
  metrics.gauge({
    name: 'streamcast_projection_lag_events',
    help: 'Events in the log after the projection checkpoint (counted up to 1000 per partition)',
    labelNames: ['projection', 'partition'],
    async collect() {
      for (const status of await readModels.status()) {
        for (const p of status.partitions ?? [{ ...status, partition: 0 }]) {
          this.set(labels(status.name, p.partition), p.lagEvents);
          checkpoint.set(labels(status.name, p.partition), positionNumber(p.position));
        }
      }
    },
  });
  const checkpoint = metrics.gauge({
    name: 'streamcast_projection_checkpoint',
    help: 'The projection checkpoint: on Redis the ms timestamp of the last event folded in',
    labelNames: ['projection', 'partition'],
  });
  metrics.gauge({
    name: 'streamcast_projection_leader',
    help: '1 while this instance holds the projection (partition) lease',
    labelNames: ['projection', 'partition'],
    collect() {
      for (const p of projectors) this.set(labels(p.name, p.partition), p.leading ? 1 : 0);
    },
  });
}
