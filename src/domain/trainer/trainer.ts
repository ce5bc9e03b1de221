/**
 * The trainer of seed 004: a trainer moves in a direction at TRAINER_SPEED until it stops; its
 * position is integrated between commands from the commands' own timestamps (never a clock).
 */
import { z } from 'zod';
import { DomainRuleError, ValidationError } from '../../errors.js';
import {
  type Command,
  type Decider,
  type DomainEvent,
  eventDecoder,
  eventSchema,
  type NotificationMapper,
} from '../decider.js';
import { IDENTIFIER, IDENTIFIER_RULE } from '../identifier.js';

/** A 2-D vector. */
export type Vector = {
  readonly x: number;
  readonly y: number;
};

/** What a move does: start (or turn) moving, or stop. */
export type TrainerAction = 'start' | 'stop';

/** The data of `MoveTrainer`; `direction` is a unit vector for `start` and ignored for `stop`. */
export type MoveTrainerData = {
  readonly trainerId: string;
  readonly action: TrainerAction;
  readonly direction: Vector;
};

/** The `MoveTrainer` command. */
export type MoveTrainer = Command<'MoveTrainer', MoveTrainerData>;

/** Trainer commands (a union, so the `decide` switch is checked for completeness). */
export type TrainerCommand = MoveTrainer;

/** Where a trainer is heading, and since when. */
export type Movement = {
  readonly isMoving: boolean;
  /** A unit vector while moving, (0, 0) when standing. */
  readonly direction: Vector;
  /** Units per second: TRAINER_SPEED while moving, 0 when standing. */
  readonly speed: number;
  /** ISO time the current movement started; null when standing. */
  readonly startedAt: string | null;
};

/** The one event of a handled move: the position reached and the new movement. */
export type TrainerMoved = DomainEvent<
  'TrainerMoved',
  {
    readonly trainerId: string;
    readonly action: TrainerAction;
    /** Where the trainer is at `at`. */
    readonly position: Vector;
    readonly movement: Movement;
    /** The move's time: the command's, or the previous move's if the command is older. */
    readonly at: string;
  }
>;

/** Trainer events (a union, so the `evolve` switch is checked for completeness). */
export type TrainerEvent = TrainerMoved;

const vector = z.object({ x: z.number(), y: z.number() });

/** Decodes a trainer stream's stored events. */
export const decodeTrainerEvent = eventDecoder([
  eventSchema(
    'TrainerMoved',
    z.object({
      trainerId: z.string(),
      action: z.enum(['start', 'stop']),
      position: vector,
      movement: z.object({
        isMoving: z.boolean(),
        direction: vector,
        speed: z.number(),
        startedAt: z.string().nullable(),
      }),
      at: z.string(),
    }),
  ),
]);

/** A trainer as the decider sees it. */
export interface TrainerState {
  /** False until the first move (the trainer stands at (0, 0)). */
  readonly exists: boolean;
  readonly x: number;
  readonly y: number;
  readonly isMoving: boolean;
  readonly direction: Vector;
  readonly speed: number;
  readonly startedAt: string | null;
  /** Time of the last move (the time `x`, `y` hold for); null before the first. */
  readonly at: string | null;
  /** Events applied: the trainer stream's version. */
  readonly version: number;
}

/** The trainer's stream id. */
export function trainerStreamId(trainerId: string): string {
  return `trainer-${trainerId}`;
}

/** Refuses a direction with a non-finite number (NaN, ±Infinity). */
function assertFinite(x: number, y: number): void {
  const invalid = ValidationError.fromIssues('the direction must be finite numbers', [
    ...(Number.isFinite(x) ? [] : [{ path: 'directionX', message: `${x} is not finite` }]),
    ...(Number.isFinite(y) ? [] : [{ path: 'directionY', message: `${y} is not finite` }]),
  ]);
  if (invalid) throw invalid;
}

/** A unit vector along `(x, y)`; refuses non-finite numbers and (0, 0). */
export function normalise(x: number, y: number): Vector {
  assertFinite(x, y);
  const length = Math.hypot(x, y);
  if (length === 0) {
    throw new ValidationError('the direction (0, 0) has no heading', [
      { path: 'directionX', message: 'directionX and directionY must not both be 0 to start' },
    ]);
  }
  return { x: x / length, y: y / length };
}

/** The position `state` reaches at `at` (an ISO time); elapsed time below 0 counts as 0. */
export function positionAt(state: TrainerState, at: string): Vector {
  if (!state.isMoving || state.startedAt === null) return { x: state.x, y: state.y };
  const elapsedS = Math.max(0, (Date.parse(at) - Date.parse(state.startedAt)) / 1000);
  return {
    x: state.x + state.direction.x * state.speed * elapsedS,
    y: state.y + state.direction.y * state.speed * elapsedS,
  };
}

const STANDING: Movement = {
  isMoving: false,
  direction: { x: 0, y: 0 },
  speed: 0,
  startedAt: null,
};

const INITIAL: TrainerState = {
  exists: false,
  x: 0,
  y: 0,
  ...STANDING,
  at: null,
  version: 0,
};

/** The command's time, but never before the last move: a reclaimed older command moves no time. */
function moveTime(command: TrainerCommand, state: TrainerState): string {
  const at = command.metadata.timestamp;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) {
    throw new ValidationError(`command timestamp ${JSON.stringify(at)} is not an ISO time`, [
      { path: 'metadata.timestamp', message: 'must be an ISO-8601 time' },
    ]);
  }
  return state.at !== null && Date.parse(state.at) > ms ? state.at : at;
}

function decideMove(command: MoveTrainer, state: TrainerState, speed: number): TrainerMoved {
  const { trainerId, action, direction } = command.data;
  if (!IDENTIFIER.test(trainerId)) {
    throw new ValidationError(`trainerId ${JSON.stringify(trainerId)} is not an identifier`, [
      { path: 'trainerId', message: IDENTIFIER_RULE },
    ]);
  }
  assertFinite(direction.x, direction.y); // for both actions, as the params schema does
  const at = moveTime(command, state);
  let movement: Movement;
  switch (action) {
    case 'start':
      movement = {
        isMoving: true,
        direction: normalise(direction.x, direction.y),
        speed,
        startedAt: at,
      };
      break;
    case 'stop':
      if (!state.isMoving) {
        throw new DomainRuleError(
          'trainer-not-moving',
          `trainer ${trainerId} is not moving, so it cannot stop: start it first`,
        );
      }
      movement = STANDING;
      break;
    default: {
      const unknown: never = action;
      throw new ValidationError(`unknown action ${JSON.stringify(unknown)}: use start or stop`);
    }
  }
  const position = positionAt(state, at);
  return { type: 'TrainerMoved', data: { trainerId, action, position, movement, at } };
}

/** The trainer decider; `speed` is TRAINER_SPEED in units per second. */
export function trainerDecider(options: {
  /** TRAINER_SPEED: units per second while moving. */
  readonly speed: number;
}): Decider<TrainerCommand, TrainerEvent, TrainerState> {
  return {
    initialState: () => INITIAL,
    evolve: (state, event) => {
      switch (event.type) {
        case 'TrainerMoved': {
          const { position, movement, at } = event.data;
          return {
            exists: true,
            x: position.x,
            y: position.y,
            isMoving: movement.isMoving,
            direction: movement.direction,
            speed: movement.speed,
            startedAt: movement.startedAt,
            at,
            version: state.version + 1,
          };
        }
        default: {
          // an event type this version does not know changes nothing it decides on
          const _unknown: never = event.type;
          return state;
        }
      }
    },
    decide: (command, state) => {
      switch (command.type) {
        case 'MoveTrainer':
          return [decideMove(command, state, options.speed)];
        default: {
          const unknown: never = command.type;
          throw new ValidationError(`unknown trainer command ${String(unknown)}`);
        }
      }
    },
  };
}

/** `position.update` for every `TrainerMoved` (SPEC.md §5): to everyone, topic `trainer.<id>`. */
export const trainerNotifications: NotificationMapper<TrainerEvent> = (event, context) => {
  switch (event.type) {
    case 'TrainerMoved': {
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
    default: {
      const _unknown: never = event.type;
      return [];
    }
  }
};
