import { z } from 'zod';
import { toRpcError } from '../../error-codes.js';
import { isJsonObject } from '../../events/json.js';
import { errorOfOutcome, landedAt } from '../../events/outcome.js';
import { defineMethod, type RpcMethod } from '../method.js';
import type { RpcServices } from './services.js';

/** `command.status` and `command.redrive` (admin). */
export function commandMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'command.status',
      summary:
        'Where a command stands: handled (with its result or error), pending, dead, or unknown.',
      params: z.object({
        commandId: z.uuid().describe('the commandId you sent, or got in a -32030 error'),
      }),
      result: z.object({
        status: z.enum(['handled', 'pending', 'dead', 'unknown']),
        result: z.unknown().optional(),
        error: z
          .object({ code: z.number(), message: z.string(), data: z.unknown().optional() })
          .optional(),
      }),
      handler: async (p, ctx) => {
        const status = await services.bus.status(p.commandId);
        // another user's command is reported as unknown: its existence is not theirs to learn
        if ('owner' in status && status.owner !== ctx.user.userId && !ctx.user.isAdmin)
          return { status: 'unknown' as const };
        if (!('outcome' in status)) return { status: status.status };
        const { outcome } = status;
        if (outcome.kind !== 'appended') {
          return { status: status.status, error: toRpcError(errorOfOutcome(p.commandId, outcome)) };
        }
        const recorded = isJsonObject(outcome.result) ? outcome.result : {};
        return { status: 'handled' as const, result: { ...recorded, ...landedAt(outcome) } };
      },
    }),
    defineMethod({
      name: 'command.redrive',
      summary: 'Sends a dead-lettered command again under the same id (admin).',
      auth: 'admin',
      params: z.object({ commandId: z.uuid() }),
      result: z.object({ commandId: z.string(), status: z.literal('pending') }),
      errors: [-32004],
      handler: async (p) => {
        await services.bus.redrive(p.commandId);
        return { commandId: p.commandId, status: 'pending' as const };
      },
    }),
  ];
}
