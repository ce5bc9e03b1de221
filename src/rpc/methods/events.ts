import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { STREAM_ID_PATTERN } from '../../events/envelope.js';
import { MAX_PARTITIONS } from '../../events/partitions.js';
import { type Caller, defineMethod, type RpcMethod } from '../method.js';
import type { RpcServices } from './services.js';

/** The longest whole-log cursor: at most 23 characters per partition (log-cursor.ts). */
const MAX_CURSOR_CHARS = 32 + 24 * MAX_PARTITIONS;

const limit = z.number().int().min(1).max(1000).default(100).describe('page size, at most 1000');

/** How a page can end short of its limit (README: RPC_MAX_RESPONSE_BYTES). */
const BUDGET_NOTE =
  'A page stops short (isEnd false, with its cursor) when the answers of the HTTP request reach RPC_MAX_RESPONSE_BYTES; an event larger than that is -32010 response-too-large.';

/** True when `caller` may read `streamId`: admins everything, users their own streams. */
export function mayRead(caller: Caller, streamId: string): boolean {
  if (caller.isAdmin) return true;
  return streamId === `trainer-${caller.userId}` || streamId === `messages-${caller.userId}`;
}

const envelope = z
  .object({
    id: z.string(),
    type: z.string(),
    schemaVersion: z.number().int(),
    streamId: z.string(),
    version: z.number().int(),
    globalPosition: z.string().describe('opaque cursor: pass it back, never parse it'),
    data: z.unknown(),
    metadata: z
      .object({
        commandId: z.string().optional(),
        correlationId: z.string(),
        causationId: z.string().optional(),
        userId: z.string().optional(),
        serverId: z.string(),
        timestamp: z.string(),
        traceparent: z
          .string()
          .optional()
          .describe('W3C trace context of the handling that caused it (SPEC.md §4)'),
      })
      .readonly(),
  })
  .readonly()
  .meta({ id: 'Event' });

/** `events.read` and `events.readAll` (admin). */
export function eventMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'events.read',
      summary:
        "Reads one stream's events, forwards or backwards; users may read their own streams.",
      description: BUDGET_NOTE,
      params: z.object({
        streamId: z.string().regex(STREAM_ID_PATTERN).describe('e.g. trainer-ash'),
        fromVersion: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('first version to return (default 1, or the last when backward)'),
        limit,
        direction: z.enum(['forward', 'backward']).default('forward'),
      }),
      result: z.object({
        events: z.array(envelope).readonly(),
        nextVersion: z.number().int(),
        isEnd: z.boolean(),
      }),
      errors: [-32003, -32010],
      handler: async (p, ctx) => {
        if (!mayRead(ctx.user, p.streamId))
          throw new ForbiddenError(
            `only admins may read ${p.streamId}; you may read trainer-${ctx.user.userId}`,
          );
        return services.store.readStream(p.streamId, {
          ...(p.fromVersion !== undefined ? { fromVersion: p.fromVersion } : {}),
          limit: p.limit,
          direction: p.direction,
          ...(ctx.budget ? { budget: ctx.budget } : {}),
        });
      },
    }),
    defineMethod({
      name: 'events.readAll',
      summary: 'Reads the global log in order from a position (admin only).',
      description: `${BUDGET_NOTE} With PARTITIONS > 1 the log is every partition's, each in order and merged across partitions by time; nextPosition is then an opaque cursor over every partition (a malformed one, or one made for another PARTITIONS, is -32602).`,
      auth: 'admin',
      params: z.object({
        afterPosition: z
          .string()
          .min(1)
          .max(MAX_CURSOR_CHARS)
          .default('0')
          .describe(
            'exclusive; "0" = from the start; pass nextPosition (or an event\'s globalPosition) to continue',
          ),
        limit,
        types: z
          .array(z.string().min(1).max(128))
          .max(100)
          .optional()
          .describe('only these event types'),
      }),
      result: z.object({
        events: z.array(envelope).readonly(),
        nextPosition: z.string(),
        isEnd: z.boolean(),
      }),
      errors: [-32010],
      handler: (p, ctx) =>
        services.store.readAll({
          after: p.afterPosition,
          limit: p.limit,
          ...(p.types ? { types: p.types } : {}),
          ...(ctx.budget ? { budget: ctx.budget } : {}),
        }),
    }),
  ];
}
