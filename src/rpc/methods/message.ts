import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { messageBroadcastParams } from '../../domain/message.js';
import { ForbiddenError } from '../../errors.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { envelopeOf, positionOf, type RpcServices, sendAndWait } from './services.js';

/** `message.broadcast`: a notification to users (anyone), groups or everyone (admin). */
export function messageMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'message.broadcast',
      summary:
        'Sends a JSON-RPC notification to users, groups (admin) or everyone (admin); params.from is the sender.',
      params: messageBroadcastParams,
      result: z.object({ commandId: z.string(), globalPosition: z.string() }),
      errors: [-32003, -32029, -32030, -32031],
      handler: async (p, ctx) => {
        if (p.targetType !== 'user' && !ctx.user.isAdmin) {
          throw new ForbiddenError(
            `only admins may send to ${p.targetType === 'group' ? 'groups' : 'everyone'}; send to users instead`,
          );
        }
        const data = {
          targetType: p.targetType,
          targetIds: p.targetIds ?? [],
          method: p.method,
          params: p.params,
          ...(p.topic ? { topic: p.topic } : {}),
        };
        const commandId = p.commandId ?? uuidv4();
        const outcome = await sendAndWait(
          services,
          envelopeOf(ctx, commandId, 'BroadcastMessage', data),
        );
        return { commandId, globalPosition: positionOf(outcome).globalPosition };
      },
    }),
  ];
}
