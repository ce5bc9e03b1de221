import { z } from 'zod';
import { resultIn } from '../../commands/sender.js';
import { IDENTIFIER, IDENTIFIER_RULE } from '../../domain/identifier.js';
import { toRpcError } from '../../error-codes.js';
import { ForbiddenError } from '../../errors.js';
import { isJsonObject } from '../../events/json.js';
import { errorOfOutcome, landedAt } from '../../events/outcome.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { catalogueOf, type RpcServices } from './services.js';

/** `command.status` and `command.redrive` (admin). */
export function commandMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'command.status',
      summary:
        'Where a command stands: handled (with its result or error), pending, dead, or unknown.',
      params: z.object({
        commandId: z.uuid().describe('the commandId you sent, or got in a -32030 error'),
        userId: z
          .string()
          .regex(IDENTIFIER, IDENTIFIER_RULE)
          .optional()
          .describe("whose command (admin only; default: the caller's own)"),
      }),
      result: z.object({
        status: z.enum(['handled', 'pending', 'dead', 'unknown']),
        result: z.unknown().optional(),
        error: z
          .object({ code: z.number(), message: z.string(), data: z.unknown().optional() })
          .optional(),
      }),
      errors: [-32003],
      handler: async (p, ctx) => {
        const userId = p.userId ?? ctx.user.userId;
        if (userId !== ctx.user.userId && !ctx.user.isAdmin) {
          throw new ForbiddenError("only admins may ask about another user's commands");
        }
        // a command id names one command of one user: another user's command is not seen here
        const status = await services.bus.status(userId, p.commandId);
        if (!('outcome' in status)) return { status: status.status };
        const { outcome } = status;
        if (outcome.kind !== 'appended') {
          return {
            status: status.status,
            error: toRpcError(errorOfOutcome(p.commandId, outcome), ctx.correlationId, ctx.user),
          };
        }
        const result = resultIn(catalogueOf(services), p.commandId, outcome);
        const recorded = isJsonObject(result) ? result : {};
        return { status: 'handled' as const, result: { ...recorded, ...landedAt(outcome) } };
      },
    }),
    defineMethod({
      name: 'command.redrive',
      summary: "Sends a user's dead-lettered command again under the same id (admin).",
      auth: 'admin',
      params: z.object({
        commandId: z.uuid(),
        userId: z.string().regex(IDENTIFIER, IDENTIFIER_RULE).describe('who sent the command'),
      }),
      result: z.object({ commandId: z.string(), status: z.literal('pending') }),
      errors: [-32004],
      handler: async (p) => {
        await services.bus.redrive(p.userId, p.commandId);
        return { commandId: p.commandId, status: 'pending' as const };
      },
    }),
  ];
}
