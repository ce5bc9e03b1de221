/**
 * Projections: read models folded from the global log, each on one instance at a time, with a
 * fenced checkpoint (DESIGN.md G4), read-your-writes queries and rebuilds into a new generation.
 * With PARTITIONS > 1 all of it is per (projection, partition), leases spread over the instances
 * (lease-share.ts), and queries route to a document's partition or merge them (§8).
 */
import { deploymentsProjection } from './deployments.js';
import type { Projection } from './projection.js';
import { trainerPositions } from './trainer-positions.js';

export { CheckpointFeed } from './checkpoint-feed.js';
export { DEPLOYMENT_EVENTS, deploymentsProjection } from './deployments.js';
export { LeaseShare } from './lease-share.js';
export {
  type FollowStart,
  LeasedFollower,
  type LeasedFollowerOptions,
  LostLease,
} from './leased-follower.js';
export { MemoryProjectionStore } from './memory-projection-store.js';
export { mergedList } from './merged-list.js';
export { entryIdOf, partitionOfPosition } from './partition-position.js';
export * from './projection.js';
export * from './projection-store.js';
export { Projector, type ProjectorOptions, writesOf } from './projector.js';
export {
  LAG_CAP,
  type PartitionStatus,
  type ProjectionStatus,
  ReadModels,
  type ReadModelsOptions,
} from './read-models.js';
export {
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  rebuild,
} from './rebuild.js';
export { RedisProjectionStore } from './redis-projection-store.js';
export { type TrainerView, trainerPositions } from './trainer-positions.js';

/** Projection names (`npm run replay -- <name>`). */
export const PROJECTION_NAMES = ['trainer-positions', 'deployments'] as const;

/** Every projection an instance runs, configured. */
export function projectionsFor(config: { readonly DEPLOY_RESULTS_KEEP: number }): Projection[] {
  return [trainerPositions, deploymentsProjection(config.DEPLOY_RESULTS_KEEP)];
}

/** The projection called `name`, or an error listing the known ones. */
export function projectionNamed(
  name: string,
  config: { readonly DEPLOY_RESULTS_KEEP: number },
): Projection {
  const found = projectionsFor(config).find((p) => p.name === name);
  if (!found)
    throw new Error(`unknown projection "${name}": use one of ${PROJECTION_NAMES.join(', ')}`);
  return found;
}
