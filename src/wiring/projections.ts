/**
 * Wiring of projections: the read models the queries use (at once), and one projector per
 * projection, started once the start-up checks pass, with their gauges in `/metrics`.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { projectionsFor } from '../projections/index.js';
import { registerProjectionMetrics } from '../projections/metrics.js';
import { Projector } from '../projections/projector.js';
import { ReadModels } from '../projections/read-models.js';
import type { Backend } from './backend.js';

/** An instance's projection parts. */
export interface ProjectionParts {
  readonly readModels: ReadModels;
  /** Starts a projector per projection (each competes for its lease). */
  start(): Projector[];
}

export function projectionPartsFor(
  config: Config,
  backend: Backend,
  metrics: Metrics,
  logger: Logger,
): ProjectionParts {
  const projections = projectionsFor(config);
  const readModels = new ReadModels(
    backend.projections,
    projections.map((p) => p.name),
    config.COMMAND_TIMEOUT_MS,
  );
  return {
    readModels,
    start: () => {
      const projectors = projections.map(
        (projection) =>
          new Projector({
            events: backend.store,
            store: backend.projections,
            projection,
            owner: config.SERVER_ID,
            leaseTtlMs: config.LEASE_TTL_MS,
            logger: logger.child({ component: 'projections' }),
          }),
      );
      registerProjectionMetrics(metrics, readModels, projectors);
      return projectors;
    },
  };
}
