import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { type moveResult, moveTrainerParams, normalise } from '../../domain/trainer.js';
import { ForbiddenError } from '../../errors.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { envelopeOf, positionOf, type RpcServices, sendAndWait } from './services.js';

const vector = z.object({ x: z.number(), y: z.number() });

/** `trainer.move`: start or stop a trainer, answered once the command is handled. */
export function trainerMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'trainer.move',
      summary:
        'Starts a trainer moving in a direction, or stops it; answers once the move is recorded.',
      params: moveTrainerParams,
      result: z.object({
        commandId: z.string(),
        trainerId: z.string(),
        version: z.number().int(),
        globalPosition: z.string().describe('pass as minPosition to read your own write'),
        position: vector,
        movement: z.object({
          isMoving: z.boolean(),
          direction: vector,
          speed: z.number(),
          startedAt: z.string().nullable(),
        }),
      }),
      errors: [-32003, -32009, -32010, -32029, -32030, -32031],
      handler: async (p, ctx) => {
        const trainerId = p.trainerId ?? ctx.user.userId;
        if (trainerId !== ctx.user.userId && !ctx.user.isAdmin) {
          throw new ForbiddenError(
            `only admins may move another user's trainer (${trainerId}); leave trainerId out to move your own`,
          );
        }
        const direction =
          p.action === 'start' ? normalise(p.directionX!, p.directionY!) : { x: 0, y: 0 };
        const data = {
          trainerId,
          action: p.action,
          direction,
          ...(p.expectedVersion !== undefined ? { expectedVersion: p.expectedVersion } : {}),
        };
        const outcome = await sendAndWait(
          services,
          envelopeOf(ctx, p.commandId ?? uuidv4(), 'MoveTrainer', data),
        );
        // the result recorded with the event (the same for every repeat of the command id)
        return { ...(outcome.result as ReturnType<typeof moveResult>), ...positionOf(outcome) };
      },
    }),
  ];
}
