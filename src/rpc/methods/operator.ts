/**
 * What the console's operator view reads (admin only): `system.instances`, every live instance
 * with its SSE sessions and users, the cluster's command backlog and each projection's position,
 * lag and leader; and `command.deadLetters`, the dead-lettered commands page by page.
 * (`system.status` stays the answer of the one instance asked.)
 */
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import { defineMethod, type RpcMethod } from '../method.js';
import type { LiveInstance, RpcServices } from './services.js';

/** Dead letters a page may skip and hold together (the bus reads newest first, from the top). */
const DEAD_LETTERS_WINDOW = 10_000;

const partitionSchema = z.object({
  partition: z.number().int(),
  position: z.string(),
  lagEvents: z.number().int(),
  leader: z.string().optional(),
});

const instancesResult = z.object({
  at: z.string().describe('ISO time of the answer'),
  instances: z.array(
    z.object({
      serverId: z.string(),
      self: z.boolean().describe('the instance that answered'),
      host: z.string().optional(),
      pid: z.number().int().optional(),
      port: z.number().int().optional(),
      startedAt: z.string().optional(),
      sessions: z.number().int().describe('SSE sessions it holds'),
      connectedUsers: z.number().int(),
      users: z.array(z.string()),
    }),
  ),
  commands: z.object({
    backlog: z.number().int().describe('waiting in the group: lag + pending'),
    lag: z.number().int().describe('not yet read by any worker'),
    pending: z.number().int().describe('read by a worker, not finished'),
    dead: z.number().int(),
  }),
  projections: z.array(
    z.object({
      name: z.string(),
      position: z.string(),
      lagEvents: z.number().int(),
      leader: z.string().optional().describe('SERVER_ID holding the lease (one partition)'),
      partitions: z.array(partitionSchema).optional(),
    }),
  ),
});

/** Registry entries and presence, joined by serverId (either may know an instance first). */
function joinInstances(
  selfId: string,
  registered: readonly LiveInstance[],
  presence: readonly { serverId: string; sessions: number; users: readonly string[] }[],
): z.output<typeof instancesResult>['instances'] {
  const ids = [
    ...new Set([selfId, ...registered.map((r) => r.serverId), ...presence.map((p) => p.serverId)]),
  ].sort();
  return ids.map((serverId) => {
    const info = registered.find((r) => r.serverId === serverId)?.info;
    const seen = presence.find((p) => p.serverId === serverId);
    return {
      serverId,
      self: serverId === selfId,
      ...(info
        ? {
            host: info.host,
            pid: info.pid,
            ...(info.port !== undefined ? { port: info.port } : {}),
            startedAt: info.startedAt,
          }
        : {}),
      sessions: seen?.sessions ?? 0,
      connectedUsers: seen?.users.length ?? 0,
      users: [...(seen?.users ?? [])].sort(),
    };
  });
}

/** `system.instances` and `command.deadLetters` (both admin). */
export function operatorMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'system.instances',
      summary:
        'Every live instance with its SSE sessions and users, the command backlog and each projection (admin).',
      auth: 'admin',
      params: z.object({}),
      result: instancesResult,
      handler: async () => {
        const [registered, presence, backlog, projections] = await Promise.all([
          services.instances?.() ?? [],
          services.realtime?.presence() ?? [],
          services.backlog(),
          services.readModels.status(),
        ]);
        return {
          at: new Date().toISOString(),
          instances: joinInstances(services.serverId, registered, presence),
          commands: {
            backlog: backlog.lag + backlog.pending,
            lag: backlog.lag,
            pending: backlog.pending,
            dead: backlog.dead,
          },
          projections: projections.map((p) => ({
            name: p.name,
            position: p.position,
            lagEvents: p.lagEvents,
            ...(p.leader ? { leader: p.leader } : {}),
            ...(p.partitions ? { partitions: [...p.partitions] } : {}),
          })),
        };
      },
    }),
    defineMethod({
      name: 'command.deadLetters',
      summary: 'The dead-lettered commands, newest first, a page at a time (admin).',
      description: `Pass nextCursor as cursor for the next page. Only the newest ${DEAD_LETTERS_WINDOW} are reachable this way (npm run dead -- list reads the stream itself). Command data is not shown: it may hold sealed secrets.`,
      auth: 'admin',
      params: z.object({
        limit: z.number().int().min(1).max(1000).default(50),
        cursor: z
          .string()
          .regex(/^\d{1,5}$/, 'must be a nextCursor of an earlier page')
          .optional(),
      }),
      result: z.object({
        deadLetters: z.array(
          z.object({
            commandId: z.string(),
            userId: z.string(),
            type: z.string(),
            streamId: z.string().optional(),
            error: z.string().describe('the last attempt’s error'),
            attempts: z.number().int(),
            at: z.string().describe('ISO time it was dead-lettered'),
          }),
        ),
        nextCursor: z.string().nullable().describe('null on the last page'),
      }),
      handler: async (p) => {
        const offset = Number(p.cursor ?? '0');
        if (offset + p.limit > DEAD_LETTERS_WINDOW) {
          throw new ValidationError(
            `only the newest ${DEAD_LETTERS_WINDOW} dead letters can be paged: use npm run dead -- list for older ones`,
          );
        }
        const found = await services.bus.deadLetters(offset + p.limit + 1);
        const page = found.slice(offset, offset + p.limit);
        return {
          deadLetters: page.map(({ command, error, attempts, at }) => ({
            commandId: command.id,
            userId: command.metadata.userId,
            type: command.type,
            ...(command.metadata.streamId ? { streamId: command.metadata.streamId } : {}),
            error,
            attempts,
            at,
          })),
          nextCursor: found.length > offset + p.limit ? String(offset + p.limit) : null,
        };
      },
    }),
  ];
}
