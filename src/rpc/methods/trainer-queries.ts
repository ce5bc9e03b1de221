import { z } from 'zod';
import { IDENTIFIER, IDENTIFIER_RULE } from '../../domain/identifier.js';
import { ForbiddenError, NotFoundError } from '../../errors.js';
import type { ResponseBudget } from '../../events/byte-budget.js';
import { trainerPositions } from '../../projections/trainer-positions.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { minPositionParam } from './min-position.js';
import type { RpcServices } from './services.js';

const vector = z.object({ x: z.number(), y: z.number() });

/** The trainer read model (SPEC.md §4 "Events and streams"). */
const trainerView = z
  .object({
    trainerId: z.string(),
    x: z.number(),
    y: z.number(),
    isMoving: z.boolean(),
    direction: vector,
    speed: z.number(),
    version: z.number().int(),
    moves: z.number().int().describe('TrainerMoved events applied: equals version'),
    updatedAt: z.string(),
    globalPosition: z.string(),
  })
  .meta({ id: 'Trainer' });

const projection = trainerPositions.name;

/**
 * The docs that fit in the budget, but at least one (a trainer is a few hundred bytes), so that a
 * page stopped short always has a cursor to continue from.
 */
function withinBudget<D>(docs: readonly D[], budget: ResponseBudget | undefined): readonly D[] {
  if (!budget) return docs;
  const end = docs.findIndex((doc, i) => !budget.take(JSON.stringify(doc).length) && i > 0);
  return end === -1 ? docs : docs.slice(0, end);
}

/** `trainer.get` and `trainer.list` from the `trainer-positions` projection. */
export function trainerQueryMethods(services: RpcServices): RpcMethod[] {
  const { readModels } = services;
  return [
    defineMethod({
      name: 'trainer.get',
      summary: "A trainer's read model; users may read their own trainer.",
      params: z.object({
        trainerId: z.string().regex(IDENTIFIER, IDENTIFIER_RULE),
        minPosition: minPositionParam.optional(),
      }),
      result: trainerView,
      errors: [-32003, -32004, -32032],
      handler: async (p, ctx) => {
        if (p.trainerId !== ctx.user.userId && !ctx.user.isAdmin) {
          throw new ForbiddenError(
            `only admins may read trainer ${p.trainerId}; you may read your own (${ctx.user.userId})`,
          );
        }
        const doc = await readModels.get(projection, p.trainerId, p.minPosition);
        if (!doc) throw new NotFoundError('trainer', p.trainerId);
        return trainerView.parse(doc);
      },
    }),
    defineMethod({
      name: 'trainer.list',
      summary: 'Every trainer in trainerId order, a page at a time (admin only).',
      auth: 'admin',
      params: z.object({
        limit: z.number().int().min(1).max(1000).default(100).describe('page size, at most 1000'),
        cursor: z
          .string()
          .regex(IDENTIFIER, 'must be a nextCursor this method returned')
          .optional()
          .describe('the nextCursor of the previous page'),
      }),
      result: z.object({
        trainers: z.array(trainerView),
        nextCursor: z.string().nullable().describe('null on the last page'),
      }),
      handler: async (p, ctx) => {
        const page = await readModels.list(projection, {
          limit: p.limit,
          ...(p.cursor ? { after: p.cursor } : {}),
        });
        const docs = withinBudget(page.docs, ctx.budget);
        const trainers = docs.map(({ id: _id, ...doc }) => trainerView.parse(doc));
        const cut = docs.length < page.docs.length;
        return { trainers, nextCursor: (cut ? docs.at(-1)?.id : page.nextCursor) ?? null };
      },
    }),
  ];
}
