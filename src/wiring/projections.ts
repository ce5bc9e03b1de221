/**
 * Wiring of projections: the read models the queries use (at once), and one projector per
 * (projection, partition), started once the start-up checks pass, with their gauges in `/metrics`.
 * Every instance runs a projector for every partition; each competes for its partition's lease
 * within the instance's fair share (lease-share.ts), so partitions are projected in parallel by
 * different instances (DESIGN.md §8). One partition: one projector per projection, as before.
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { InstanceRegistry } from '../ops/instance-registry.js';
import { projectionsFor } from '../projections/index.js';
import { LeaseShare } from '../projections/lease-share.js';
import { registerProjectionMetrics } from '../projections/metrics.js';
import { Projector } from '../projections/projector.js';
import { ReadModels } from '../projections/read-models.js';
import type { Backend } from './backend.js';

/** An instance's projection parts. */
export interface ProjectionParts {
  readonly readModels: ReadModels;
  /** Starts a projector per projection and partition (each competes for its lease). */
  start(): Projector[];
}

export function projectionPartsFor(
  config: Config,
  backend: Backend,
  metrics: Metrics,
  logger: Logger,
): ProjectionParts {
  const projections = projectionsFor(config);
  const partitions = backend.projections;
  const readModels = new ReadModels({
    stores: partitions.map((p) => p.store),
    projections,
    partitionOf: backend.partitioning.of,
    waitMs: config.COMMAND_TIMEOUT_MS,
  });
  const several = partitions.length > 1;
  const { redis } = backend;
  const share = new LeaseShare(
    partitions.length,
    redis && several
      ? async () => (await InstanceRegistry.live(redis, backend.partitioning.shared)).length
      : undefined,
  );
  return {
    readModels,
    start: () => {
      const projectors = projections.flatMap((projection) =>
        partitions.map(
          ({ partition, events, store }) =>
            new Projector({
              events,
              store,
              projection,
              owner: config.SERVER_ID,
              leaseTtlMs: config.LEASE_TTL_MS,
              logger: logger.child({ component: 'projections' }),
              ...(several ? { partition, share } : {}),
            }),
        ),
      );
      registerProjectionMetrics(metrics, readModels, projectors);
      return projectors;
    },
  };
}
