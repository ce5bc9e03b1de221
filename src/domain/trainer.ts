/**
 * The trainer of seed 004: a trainer moves in a direction at TRAINER_SPEED until it stops; its
 * position is integrated between commands from the commands' own timestamps (never a clock).
 */
import { z } from 'zod';
import { DomainRuleError, ValidationError } from '../errors.js';
import type { NotificationRecord } from '../events/envelope.js';
import type { Command, Decider, DomainEvent, EventContext } from './decider.js';

const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

/** A 2-D vector. */
export type Vector = {
  readonly x: number;
  readonly y: number;
};

/** Params of `trainer.move` (SPEC.md §4), also the source of its OpenRPC schema. */
export const moveTrainerParams = z
  .object({
    action: z.enum(['start', 'stop']).describe('start moving in a direction, or stop'),
    directionX: z
      .number()
      .finite()
      .optional()
      .describe('x of the direction (required for start; normalised)'),
    directionY: z
      .number()
      .finite()
      .optional()
      .describe('y of the direction (required for start; normalised)'),
    trainerId: z
      .string()
      .regex(IDENTIFIER)
      .optional()
      .describe('default: the caller; others need admin'),
    commandId: z
      .uuid()
      .optional()
      .describe('idempotency key: a retry with the same id is applied once'),
    expectedVersion: z
      .union([z.number().int().min(0), z.enum(['any', 'exists'])])
      .optional()
      .describe('the trainer stream version this move expects (0: the trainer never moved)'),
  })
  .superRefine((p, ctx) => {
    if (p.action !== 'start') return;
    if (p.directionX === undefined || p.directionY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['directionX'],
        message: 'directionX and directionY are required to start',
      });
    } else if (p.directionX === 0 && p.directionY === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['directionX'],
        message: 'the direction (0, 0) has no heading',
      });
    }
  });

/** The `MoveTrainer` command (direction already normalised for `start`). */
export type MoveTrainer = Command<
  'MoveTrainer',
  { readonly trainerId: string; readonly action: 'start' | 'stop'; readonly direction: Vector }
>;

/** Where a trainer is heading, and since when. */
export type Movement = {
  readonly isMoving: boolean;
  readonly direction: Vector;
  readonly speed: number;
  /** ISO time the current movement started; null when standing. */
  readonly startedAt: string | null;
};

/** The one event of a move: the integrated position and the new movement. */
export type TrainerMoved = DomainEvent<
  'TrainerMoved',
  {
    readonly trainerId: string;
    readonly action: 'start' | 'stop';
    readonly position: Vector;
    readonly movement: Movement;
    /** The command's time. */
    readonly at: string;
  }
>;

/** Trainer events (a union, so the switch below is checked for completeness). */
export type TrainerEvent = TrainerMoved;

/** A trainer as the decider sees it. */
export interface TrainerState {
  readonly position: Vector;
  readonly movement: Movement;
}

/** The trainer's stream. */
export function trainerStreamId(trainerId: string): string {
  return `trainer-${trainerId}`;
}

/** A unit vector along `(x, y)`; refuses non-finite numbers and (0, 0). */
export function normalise(x: number, y: number): Vector {
  if (!Number.isFinite(x) || !Number.isFinite(y)) {
    throw new ValidationError('the direction must be finite numbers', [
      { path: 'directionX', message: 'must be finite' },
    ]);
  }
  const length = Math.hypot(x, y);
  if (length === 0)
    throw new ValidationError('the direction (0, 0) has no heading', [
      { path: 'directionX', message: 'not both 0' },
    ]);
  return { x: x / length, y: y / length };
}

/** The position reached at `at`, moving since `startedAt` (elapsed clamped at 0 for late commands). */
export function positionAt(state: TrainerState, at: string): Vector {
  const { movement, position } = state;
  if (!movement.isMoving || movement.startedAt === null) return position;
  const elapsedS = Math.max(0, (Date.parse(at) - Date.parse(movement.startedAt)) / 1000);
  return {
    x: position.x + movement.direction.x * movement.speed * elapsedS,
    y: position.y + movement.direction.y * movement.speed * elapsedS,
  };
}

const STANDING: Movement = {
  isMoving: false,
  direction: { x: 0, y: 0 },
  speed: 0,
  startedAt: null,
};

/** The trainer decider; `speed` is TRAINER_SPEED in units per second. */
export function trainerDecider(options: {
  speed: number;
}): Decider<MoveTrainer, TrainerEvent, TrainerState> {
  return {
    initialState: () => ({ position: { x: 0, y: 0 }, movement: STANDING }),
    evolve: (_state, event) => {
      switch (event.type) {
        case 'TrainerMoved':
          return { position: event.data.position, movement: event.data.movement };
        default: {
          const unknown: never = event.type;
          return unknown;
        }
      }
    },
    decide: (command, state) => {
      const { trainerId, action, direction } = command.data;
      const at = command.metadata.timestamp;
      if (Number.isNaN(Date.parse(at)))
        throw new ValidationError(`command timestamp ${at} is not a time`);
      if (action === 'stop' && !state.movement.isMoving) {
        throw new DomainRuleError(
          'trainer-not-moving',
          `trainer ${trainerId} is not moving, so it cannot stop`,
        );
      }
      const movement: Movement =
        action === 'start'
          ? {
              isMoving: true,
              direction: normalise(direction.x, direction.y),
              speed: options.speed,
              startedAt: at,
            }
          : STANDING;
      return [
        {
          type: 'TrainerMoved',
          data: { trainerId, action, position: positionAt(state, at), movement, at },
        },
      ];
    },
  };
}

/** `position.update` for every `TrainerMoved` (SPEC.md §5), to everyone, topic `trainer.<id>`. */
export function trainerNotifications(
  event: TrainerEvent,
  context: EventContext,
): readonly NotificationRecord[] {
  const { trainerId, position, movement, at } = event.data;
  return [
    {
      method: 'position.update',
      params: {
        trainerId,
        x: position.x,
        y: position.y,
        isMoving: movement.isMoving,
        dirX: movement.direction.x,
        dirY: movement.direction.y,
        version: context.version,
        at,
      },
      target: 'broadcast',
      targetIds: [],
      topic: `trainer.${trainerId}`,
    },
  ];
}

/** What `trainer.move` answers besides `version` and `globalPosition` (added from the append). */
export function moveResult(commandId: string, event: TrainerMoved) {
  const { trainerId, position, movement } = event.data;
  return {
    commandId,
    trainerId,
    position: { x: position.x, y: position.y },
    movement: {
      isMoving: movement.isMoving,
      direction: { ...movement.direction },
      speed: movement.speed,
      startedAt: movement.startedAt,
    },
  };
}
