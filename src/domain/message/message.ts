/**
 * Seed 004's BroadcastMessageCommand: a user sends a JSON-RPC notification to users, groups or
 * everyone. User-sent methods and topics must start with `message.`, so they can never pass for
 * the server's own notifications (DESIGN.md G6). Who may send to groups or everyone is the RPC
 * layer's check, not the decider's.
 */
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import type { Json, NotificationRecord } from '../../events/envelope.js';
import {
  type Command,
  type Decider,
  type DomainEvent,
  type EventContext,
  eventDecoder,
  eventSchema,
} from '../decider.js';
import { IDENTIFIER, IDENTIFIER_RULE } from '../identifier.js';

/** `message.` and one or more method-name tokens. */
const MESSAGE_METHOD = /^message(\.[A-Za-z0-9_-]+)+$/;
/** `message.` and one or more topic tokens (no `*` or `>`: those are for patterns). */
const MESSAGE_TOPIC = /^message(\.[A-Za-z0-9_:-]+)+$/;

/** Who a message is addressed to. */
export type TargetType = 'user' | 'group' | 'broadcast';

const fields = {
  targetType: z
    .enum(['user', 'group', 'broadcast'])
    .describe('to users, to groups (admin), or to everyone (admin)'),
  targetIds: z.array(z.string().regex(IDENTIFIER, IDENTIFIER_RULE)).max(1000),
  method: z
    .string()
    .max(128)
    .regex(MESSAGE_METHOD, 'must start with "message." (e.g. message.chat)')
    .describe('the notification method; must start with "message."'),
  params: z
    .record(z.string(), z.json())
    .describe('the notification params (a JSON object); the server adds params.from'),
  topic: z
    .string()
    .max(256)
    .regex(MESSAGE_TOPIC, 'must start with "message." (e.g. message.room.1)')
    .optional()
    .describe('for topic subscriptions; must start with "message."'),
};

/** Ids for `user` and `group`, none for `broadcast`. */
function checkTargets(
  p: { readonly targetType: TargetType; readonly targetIds?: readonly string[] | undefined },
  ctx: z.RefinementCtx,
): void {
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
}

/** Params of `message.broadcast` (SPEC.md §4), also the source of its OpenRPC schema. */
export const messageBroadcastParams = z
  .object({
    ...fields,
    targetIds: fields.targetIds
      .optional()
      .describe('user or group ids (at least one); none for broadcast'),
    commandId: z
      .uuid()
      .optional()
      .describe('idempotency key: a retry with the same id is sent once'),
  })
  .superRefine(checkTargets);

/** The same rules over the command's data, for a command that did not come through the params. */
const messageData = z.object(fields).superRefine(checkTargets);

/** The data of `BroadcastMessage`. */
export type MessageData = {
  readonly targetType: TargetType;
  readonly targetIds: readonly string[];
  readonly method: string;
  readonly params: { readonly [k: string]: Json };
  readonly topic?: string;
};

/** The `BroadcastMessage` command; its sender is `metadata.userId`. */
export type BroadcastMessage = Command<'BroadcastMessage', MessageData>;

/** Message commands (a union, so the `decide` switch is checked for completeness). */
export type MessageCommand = BroadcastMessage;

/** The message as sent (params as given), with its sender. */
export type MessageBroadcast = DomainEvent<
  'MessageBroadcast',
  MessageData & { readonly from: string }
>;

/** Message events (a union, so switches over them are checked for completeness). */
export type MessageEvent = MessageBroadcast;

/** Decodes a sender's stream of stored messages. */
export const decodeMessageEvent = eventDecoder([
  eventSchema(
    'MessageBroadcast',
    z.object({
      targetType: z.enum(['user', 'group', 'broadcast']),
      targetIds: z.array(z.string()),
      method: z.string(),
      params: z.record(z.string(), z.json()),
      topic: z.string().optional(),
      from: z.string(),
    }),
  ),
]);

/** The stream of the messages a user sent. */
export function messageStreamId(userId: string): string {
  return `messages-${userId}`;
}

function decideBroadcast(command: BroadcastMessage): MessageBroadcast {
  const parsed = messageData.safeParse(command.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw (
      ValidationError.fromIssues('the message is invalid', issues) ??
      new ValidationError('the message is invalid')
    );
  }
  const { targetType, targetIds, method, params, topic } = command.data;
  return {
    type: 'MessageBroadcast',
    data: {
      targetType,
      targetIds: [...targetIds],
      method,
      params,
      ...(topic !== undefined ? { topic } : {}),
      from: command.metadata.userId,
    },
  };
}

/** Messages keep no state: every send is its own event. */
export const messageDecider: Decider<MessageCommand, MessageEvent, null> = {
  initialState: () => null,
  evolve: () => null,
  decide: (command) => {
    switch (command.type) {
      case 'BroadcastMessage':
        return [decideBroadcast(command)];
      default: {
        const unknown: never = command.type;
        throw new ValidationError(`unknown message command ${String(unknown)}`);
      }
    }
  },
};

/** The notification a `MessageBroadcast` delivers: its method, params with `from`, its targets. */
export function messageNotifications(
  event: MessageEvent,
  _context?: EventContext,
): readonly NotificationRecord[] {
  switch (event.type) {
    case 'MessageBroadcast': {
      const { method, params, targetType, targetIds, topic, from } = event.data;
      return [
        {
          method,
          params: { ...params, from }, // the sender, whatever params.from the client put there
          target: targetType,
          targetIds: [...targetIds],
          ...(topic !== undefined ? { topic } : {}),
        },
      ];
    }
    default: {
      const _unknown: never = event.type;
      return [];
    }
  }
}
