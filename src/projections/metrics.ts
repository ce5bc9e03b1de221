import type { Metrics } from '../metrics.js';
import type { Projector } from './projector.js';
import type { ReadModels } from './read-models.js';

/** The millisecond part of a Redis position (`<ms>-<seq>`), or the count of a memory one. */
function positionNumber(position: string): number {
  return Number(position.split('-')[0]);
}

/**
 * Projection gauges for `/metrics`, read at scrape time: each projection's lag in events (capped
 * like `system.status`), its checkpoint (on Redis the time, in ms, of the last event folded in)
 * and whether this instance leads it.
 */
export function registerProjectionMetrics(
  metrics: Metrics,
  readModels: ReadModels,
  projectors: readonly Projector[],
): void {
  // registered first, so its one status read per scrape also fills the checkpoint gauge
  metrics.gauge({
    name: 'streamcast_projection_lag_events',
    help: 'Events in the global log after the projection checkpoint (counted up to 1000)',
    labelNames: ['projection'],
    async collect() {
      for (const status of await readModels.status()) {
        this.set({ projection: status.name }, status.lagEvents);
        checkpoint.set({ projection: status.name }, positionNumber(status.position));
      }
    },
  });
  const checkpoint = metrics.gauge({
    name: 'streamcast_projection_checkpoint',
    help: 'The projection checkpoint: on Redis the ms timestamp of the last event folded in',
    labelNames: ['projection'],
  });
  metrics.gauge({
    name: 'streamcast_projection_leader',
    help: '1 while this instance holds the projection lease',
    labelNames: ['projection'],
    collect() {
      for (const p of projectors) this.set({ projection: p.name }, p.leading ? 1 : 0);
    },
  });
}
