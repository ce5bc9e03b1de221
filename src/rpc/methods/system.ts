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
        presence: z
          .array(
            z.object({
              serverId: z.string(),
              sessions: z.number().int(),
              connectedUsers: z.number().int(),
              users: z.array(z.string()).optional().describe('the user ids: for admins only'),
            }),
          )
          .describe(
            'SSE sessions and users per live instance (entries expire when an instance dies)',
          ),
        projections: z.array(
          z.object({
            name: z.string(),
            position: z
              .string()
              .describe('the checkpoint: global position of the last event folded in'),
            lagEvents: z
              .number()
              .int()
              .describe(
                'events after the checkpoint, counted up to 1000 (per partition, added up)',
              ),
            partitions: z
              .array(
                z.object({
                  partition: z.number().int(),
                  position: z.string(),
                  lagEvents: z.number().int(),
                  leader: z.string().optional().describe('SERVER_ID holding the lease'),
                }),
              )
              .optional()
              .describe('with PARTITIONS > 1: each partition; position lists them all, in order'),
          }),
        ),
        archive: z
          .object({
            partitions: z.array(
              z.object({
                partition: z.number().int(),
                archivedUpTo: z.string().describe('the newest log entry id archived (0-0: none)'),
                lagEvents: z
                  .number()
                  .int()
                  .describe('events in the log after it, counted up to 1000'),
                leader: z.string().optional().describe("SERVER_ID holding the archiver's lease"),
              }),
            ),
            error: z.string().optional().describe('why the archive could not be read'),
          })
          .optional()
          .describe('with ARCHIVE_URL: how far each partition is archived to PostgreSQL'),
        notifier: z
          .object({
            checkpoint: z
              .string()
              .describe('the position in $all of the last event whose effects are written'),
            lagEvents: z.number().int().describe('events of $all after it, counted up to 1000'),
            leader: z.string().optional().describe("SERVER_ID holding the notifier's lease"),
            error: z.string().optional().describe('why it could not be read'),
          })
          .optional()
          .describe(
            'with STORE=eventstoredb: how far the notifier that writes outcomes, notifications and jobs from $all is',
          ),
      }),
      handler: async (_params, ctx) => {
        const [backlog, projections, presence, archive, notifier] = await Promise.all([
          services.backlog(),
          services.readModels.status(),
          services.realtime?.presence() ?? [],
          services.archiveStatus?.(),
          services.notifierStatus?.(),
        ]);
        return {
          serverId: services.serverId,
          store: services.storeName,
          redis: services.redisStatus() ?? null,
          uptimeS: Math.round((Date.now() - startedAt) / 1000),
          ...(services.realtime?.status() ?? { sessions: 0, connectedUsers: 0 }),
          pendingCommands: backlog.pending + backlog.lag,
          deadCommands: backlog.dead,
          presence: presence.map((p) => ({
            serverId: p.serverId,
            sessions: p.sessions,
            connectedUsers: p.users.length,
            // who is connected is the admins' business only
            ...(ctx.user.isAdmin ? { users: [...p.users] } : {}),
          })),
          projections: projections.map(({ name, position, lagEvents, partitions }) => ({
            name,
            position,
            lagEvents,
            ...(partitions ? { partitions: [...partitions] } : {}),
          })),
          ...(archive ? { archive: { ...archive, partitions: [...archive.partitions] } } : {}),
          ...(notifier ? { notifier } : {}),
        };
      },
    }),
  ];
}
