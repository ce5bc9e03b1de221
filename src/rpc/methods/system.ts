import { z } from 'zod';
import { defineMethod, type RpcMethod } from '../method.js';
import type { RpcServices } from './services.js';

const startedAt = Date.now();

/** `system.status`: this instance, its store and the command backlog. */
export function systemMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'system.status',
      summary: 'This instance: its store, Redis state, sessions, and the command backlog.',
      params: z.object({}),
      result: z.object({
        serverId: z.string(),
        store: z.string(),
        redis: z.string().nullable(),
        uptimeS: z.number(),
        sessions: z.number().int(),
        connectedUsers: z.number().int(),
        pendingCommands: z.number().int(),
        deadCommands: z.number().int(),
        projections: z.array(
          z.object({
            name: z.string(),
            position: z
              .string()
              .describe('the checkpoint: global position of the last event folded in'),
            lagEvents: z.number().int().describe('events after the checkpoint, counted up to 1000'),
          }),
        ),
      }),
      handler: async () => {
        const [backlog, projections] = await Promise.all([
          services.backlog(),
          services.readModels.status(),
        ]);
        return {
          serverId: services.serverId,
          store: services.storeName,
          redis: services.redisStatus() ?? null,
          uptimeS: Math.round((Date.now() - startedAt) / 1000),
          sessions: 0, // SSE sessions arrive with the realtime issue
          connectedUsers: 0,
          pendingCommands: backlog.pending + backlog.lag,
          deadCommands: backlog.dead,
          projections: projections.map(({ name, position, lagEvents }) => ({
            name,
            position,
            lagEvents,
          })),
        };
      },
    }),
  ];
}
