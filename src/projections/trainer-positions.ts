/**
 * The `trainer-positions` projection: one document per trainer with the fields of SPEC.md §4
 * "Events and streams" (`moves` counts the TrainerMoved events applied, so it equals `version`
 * unless an event was applied twice or missed).
 */

import { decodeTrainerEvent, trainerStreamId } from '../domain/trainer/trainer.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { Projection } from './projection.js';

/** A trainer as `trainer.get` and `trainer.list` return it. */
export interface TrainerView {
  readonly trainerId: string;
  readonly x: number;
  readonly y: number;
  readonly isMoving: boolean;
  readonly direction: { readonly x: number; readonly y: number };
  readonly speed: number;
  readonly version: number;
  readonly moves: number;
  readonly updatedAt: string;
  readonly globalPosition: string;
}

export const trainerPositions: Projection = {
  name: 'trainer-positions',
  eventTypes: ['TrainerMoved'],
  streamOf: trainerStreamId,
  project(event: RecordedEvent) {
    const moved = decodeTrainerEvent(event);
    if (!moved) return [];
    const { trainerId, position, movement, at } = moved.data;
    return [
      {
        id: trainerId,
        set: {
          trainerId,
          x: position.x,
          y: position.y,
          isMoving: movement.isMoving,
          direction: { x: movement.direction.x, y: movement.direction.y },
          speed: movement.speed,
          version: event.version,
          updatedAt: at,
          globalPosition: event.globalPosition,
        },
        incr: { moves: 1 },
      },
    ];
  },
};
