/**
 * Seed 004's BroadcastMessageCommand: a user sends a JSON-RPC notification to users, groups or
 * everyone. User-sent methods and topics must start with `message.`, so they can never pass for
 * the server's own notifications (DESIGN.md G6). Who may send to groups or everyone is the RPC
 * layer's check, not the decider's.
 */
import { z } from 'zod';
import type { Json, NotificationRecord } from '../events/envelope.js';
import type { Command, Decider, DomainEvent } from './decider.js';

const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;
const MESSAGE_METHOD = /^message(\.[A-Za-z0-9_-]+)+$/;
const MESSAGE_TOPIC = /^message(\.[A-Za-z0-9_:-]+)+$/;

/** Params of `message.broadcast` (SPEC.md §4). */
export const broadcastMessageParams = z
  .object({
    targetType: z
      .enum(['user', 'group', 'broadcast'])
      .describe('to users, to groups (admin), or to everyone (admin)'),
    targetIds: z
      .array(z.string().regex(IDENTIFIER))
      .max(1000)
      .optional()
      .describe('user or group ids; none for broadcast'),
    method: z
      .string()
      .max(128)
      .regex(MESSAGE_METHOD, 'must start with "message." (e.g. message.chat)')
      .describe('the notification method'),
    params: z
      .record(z.string(), z.json())
      .describe('the notification params; the server adds params.from'),
    topic: z
      .string()
      .max(256)
      .regex(MESSAGE_TOPIC, 'must start with "message."')
      .optional()
      .describe('for topic subscriptions'),
    commandId: z.uuid().optional().describe('idempotency key'),
  })
  .superRefine((p, ctx) => {
    const count = p.targetIds?.length ?? 0;
    if (p.targetType === 'broadcast' && count > 0) {
      ctx.addIssue({ code: 'custom', path: ['targetIds'], message: 'must be empty for broadcast' });
    }
    if (p.targetType !== 'broadcast' && count === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetIds'],
        message: `at least one ${p.targetType} id`,
      });
    }
  });

type MessageData = {
  readonly targetType: 'user' | 'group' | 'broadcast';
  readonly targetIds: readonly string[];
  readonly method: string;
  readonly params: { readonly [k: string]: Json };
  readonly topic?: string;
};

/** The `BroadcastMessage` command. */
export type BroadcastMessage = Command<'BroadcastMessage', MessageData>;

/** The message as sent, with its sender. */
export type MessageBroadcast = DomainEvent<
  'MessageBroadcast',
  MessageData & { readonly from: string }
>;

/** The stream of messages a user sent. */
export function messageStreamId(userId: string): string {
  return `messages-${userId}`;
}

/** Messages keep no state: every send is its own event. */
export const messageDecider: Decider<BroadcastMessage, MessageBroadcast, null> = {
  initialState: () => null,
  evolve: () => null,
  decide: (command) => [
    { type: 'MessageBroadcast', data: { ...command.data, from: command.metadata.userId } },
  ],
};

/** The notification a `MessageBroadcast` delivers: its method, params with `from`, its targets. */
export function messageNotifications(event: MessageBroadcast): readonly NotificationRecord[] {
  const { method, params, targetType, targetIds, topic, from } = event.data;
  return [
    {
      method,
      params: { ...params, from },
      target: targetType,
      targetIds: [...targetIds],
      ...(topic ? { topic } : {}),
    },
  ];
}
