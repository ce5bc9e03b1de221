/**
 * `MoveTrainer` (`trainer.move`, seed 004): start a trainer moving in a direction, or stop it.
 */
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { ANY, STREAM_EXISTS } from '../../events/envelope.js';
import { defineCommand } from '../command-definition.js';
import { IDENTIFIER, IDENTIFIER_RULE } from '../identifier.js';
import {
  decodeTrainerEvent,
  normalise,
  type TrainerMoved,
  trainerDecider,
  trainerNotifications,
  trainerStreamId,
} from './trainer.js';

/** Params of `trainer.move` (SPEC.md §4), also the source of its OpenRPC schema. */
export const moveTrainerParams = z
  .object({
    action: z.enum(['start', 'stop']).describe('start (or turn) moving in a direction, or stop'),
    directionX: z
      .number()
      .optional()
      .describe('x of the direction: finite, required to start, normalised by the server'),
    directionY: z
      .number()
      .optional()
      .describe('y of the direction: finite, required to start, normalised by the server'),
    trainerId: z
      .string()
      .regex(IDENTIFIER, IDENTIFIER_RULE)
      .optional()
      .describe('the trainer to move; default: the caller (moving others needs admin)'),
    commandId: z
      .uuid()
      .optional()
      .describe('idempotency key: a retry with the same id is applied once'),
    expectedVersion: z
      .union([z.number().int().min(0), z.enum(['any', 'exists'])])
      .optional()
      .describe('the trainer stream version this move expects (0: never moved; default any)'),
  })
  .superRefine((p, ctx) => {
    if (p.action !== 'start') return; // a stop ignores the direction
    const missing = (['directionX', 'directionY'] as const).filter((axis) => p[axis] === undefined);
    if (missing.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [missing[0]!],
        message: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required to start`,
      });
    }
    if (p.directionX === 0 && p.directionY === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['directionX'],
        message: 'the direction (0, 0) has no heading',
      });
    }
  });

const vector = z.object({ x: z.number(), y: z.number() });
const finiteVector = z.object({ x: z.number().finite(), y: z.number().finite() });
const movement = z.object({
  isMoving: z.boolean(),
  direction: vector,
  speed: z.number(),
  startedAt: z.string().nullable(),
});

/** The `trainer.move` result recorded with the move's event (the answer adds where it landed). */
const moveRecorded = z.object({
  commandId: z.string(),
  trainerId: z.string(),
  position: vector,
  movement,
});

/** The `trainer.move` result without where the event landed (what the command runtime records). */
export type MoveRecorded = z.output<typeof moveRecorded>;

/** The `trainer.move` result (SPEC.md §4). */
export type MoveResult = MoveRecorded & {
  readonly version: number;
  readonly globalPosition: string;
};

/** The part of the `trainer.move` result a move's event gives (the store adds where it landed). */
export function moveResult(commandId: string, event: TrainerMoved): MoveRecorded {
  const { trainerId, position, movement } = event.data;
  return {
    commandId,
    trainerId,
    position: { x: position.x, y: position.y },
    movement: {
      isMoving: movement.isMoving,
      direction: { x: movement.direction.x, y: movement.direction.y },
      speed: movement.speed,
      startedAt: movement.startedAt,
    },
  };
}

/** `MoveTrainer`: `trainer.move`, answered once the move is recorded. */
export const moveTrainer = defineCommand({
  type: 'MoveTrainer',
  method: {
    name: 'trainer.move',
    summary:
      'Starts a trainer moving in a direction, or stops it; answers once the move is recorded.',
  },
  params: moveTrainerParams,
  data: z.object({
    trainerId: z.string().regex(IDENTIFIER),
    action: z.enum(['start', 'stop']),
    direction: finiteVector,
    expectedVersion: z.union([z.number().int().min(0), z.enum(['any', 'exists'])]).optional(),
  }),
  answers: ['forbidden', 'conflict', 'rule'],
  toData: (p, edge) => {
    const trainerId = p.trainerId ?? edge.actor.userId;
    if (trainerId !== edge.actor.userId && !edge.actor.isAdmin) {
      throw new ForbiddenError(
        `only admins may move another user's trainer (${trainerId}); leave trainerId out to move your own`,
      );
    }
    const direction =
      p.action === 'start' ? normalise(p.directionX!, p.directionY!) : { x: 0, y: 0 };
    const expected = p.expectedVersion !== undefined ? { expectedVersion: p.expectedVersion } : {};
    return { trainerId, action: p.action, direction, ...expected };
  },
  streamId: (c) => trainerStreamId(c.data.trainerId),
  clientExpectation: ({ data: { expectedVersion } }) => {
    if (expectedVersion === undefined || expectedVersion === ANY) return undefined;
    return expectedVersion === 'exists' ? STREAM_EXISTS : expectedVersion;
  },
  snapshot: { schema: 'trainer/1' },
  decider: (settings) => trainerDecider({ speed: settings.trainerSpeed }),
  decode: decodeTrainerEvent,
  command: ({ data: { trainerId, action, direction }, metadata }) => ({
    type: 'MoveTrainer' as const,
    data: { trainerId, action, direction },
    metadata,
  }),
  notify: trainerNotifications,
  result: moveRecorded,
  resultOf: (c, events) => moveResult(c.metadata.commandId, events[0]!),
  resultOfEvents: (commandId, events) => moveResult(commandId, events[0]!),
  answer: z.object({
    commandId: z.string(),
    trainerId: z.string(),
    version: z.number().int(),
    globalPosition: z.string().describe('pass as minPosition to read your own write'),
    position: vector,
    movement,
  }),
  answerOf: (result, landed): MoveResult => ({ ...result, ...landed }),
});
