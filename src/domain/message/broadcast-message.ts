/**
 * `BroadcastMessage` (`message.broadcast`, seed 004): a user sends a JSON-RPC notification to
 * users; admins also to groups and to everyone.
 */
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import { defineCommand } from '../command-definition.js';
import {
  decodeMessageEvent,
  messageBroadcastParams,
  messageDecider,
  messageNotifications,
  messageStreamId,
} from './message.js';

/** `BroadcastMessage`: `message.broadcast`, answered once the message is recorded. */
export const broadcastMessage = defineCommand({
  type: 'BroadcastMessage',
  method: {
    name: 'message.broadcast',
    summary:
      'Sends a JSON-RPC notification to users, groups (admin) or everyone (admin); params.from is the sender.',
  },
  params: messageBroadcastParams,
  data: z.object({
    targetType: z.enum(['user', 'group', 'broadcast']),
    targetIds: z.array(z.string()),
    method: z.string(),
    params: z.record(z.string(), z.json()),
    topic: z.string().optional(),
  }),
  answers: ['forbidden'],
  toData: (p, edge) => {
    if (p.targetType !== 'user' && !edge.actor.isAdmin) {
      throw new ForbiddenError(
        `only admins may send to ${p.targetType === 'group' ? 'groups' : 'everyone'}; send to users instead`,
      );
    }
    return {
      targetType: p.targetType,
      targetIds: p.targetIds ?? [],
      method: p.method,
      params: p.params,
      ...(p.topic ? { topic: p.topic } : {}),
    };
  },
  streamId: (c) => messageStreamId(c.metadata.userId),
  unversioned: true, // a sender's messages have no invariant: concurrent ones never conflict
  decider: () => messageDecider,
  decode: decodeMessageEvent,
  command: ({ data: { topic, ...rest }, metadata }) => ({
    type: 'BroadcastMessage' as const,
    data: { ...rest, ...(topic ? { topic } : {}) },
    metadata,
  }),
  notify: messageNotifications,
  result: z.object({ commandId: z.string() }),
  resultOf: (c) => ({ commandId: c.metadata.commandId }),
  answer: z.object({ commandId: z.string(), globalPosition: z.string() }),
  answerOf: (result, landed) => ({
    commandId: result.commandId,
    globalPosition: landed.globalPosition,
  }),
});
