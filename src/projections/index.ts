/**
 * Projections: read models folded from the global log, each on one instance at a time, with a
 * fenced checkpoint (DESIGN.md G4), read-your-writes queries and rebuilds into a new generation.
 */
import type { Projection } from './projection.js';
import { trainerPositions } from './trainer-positions.js';

export { MemoryProjectionStore } from './memory-projection-store.js';
export * from './projection.js';
export * from './projection-store.js';
export { Projector, type ProjectorOptions, writesOf } from './projector.js';
export { LAG_CAP, type ProjectionStatus, ReadModels } from './read-models.js';
export {
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  rebuild,
} from './rebuild.js';
export { RedisProjectionStore } from './redis-projection-store.js';
export { type TrainerView, trainerPositions } from './trainer-positions.js';

/** Every projection an instance runs, by name (`npm run replay -- <name>`). */
export const PROJECTIONS: readonly Projection[] = [trainerPositions];

/** The projection called `name`, or an error listing the known ones. */
export function projectionNamed(name: string): Projection {
  const found = PROJECTIONS.find((p) => p.name === name);
  if (!found) {
    throw new Error(
      `unknown projection "${name}": use one of ${PROJECTIONS.map((p) => p.name).join(', ')}`,
    );
  }
  return found;
}
