import { z } from 'zod';
import type { Config } from '../config.js';
import {
  type BroadcastMessage,
  messageDecider,
  messageNotifications,
  messageStreamId,
} from '../domain/message.js';
import {
  type MoveTrainer,
  moveResult,
  trainerDecider,
  trainerNotifications,
  trainerStreamId,
} from '../domain/trainer.js';
import { validationErrorFromZod } from '../error-codes.js';
import { ANY, type ExpectedVersion, STREAM_EXISTS } from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandEnvelope, CommandHandler } from './command-bus.js';
import { deciderHandler } from './decider-handler.js';

const vector = z.object({ x: z.number().finite(), y: z.number().finite() });

/** `MoveTrainer` as it travels on the bus (the client's expectedVersion rides along). */
export const moveTrainerData = z.object({
  trainerId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  action: z.enum(['start', 'stop']),
  direction: vector,
  expectedVersion: z.union([z.number().int().min(0), z.enum(['any', 'exists'])]).optional(),
});

/** `BroadcastMessage` as it travels on the bus. */
export const broadcastMessageData = z.object({
  targetType: z.enum(['user', 'group', 'broadcast']),
  targetIds: z.array(z.string()),
  method: z.string(),
  params: z.record(z.string(), z.json()),
  topic: z.string().optional(),
});

function parse<T>(schema: z.ZodType<T>, envelope: CommandEnvelope): T {
  const parsed = schema.safeParse(envelope.data);
  if (!parsed.success)
    throw validationErrorFromZod(`${envelope.type} ${envelope.id} is malformed`, parsed.error);
  return parsed.data;
}

function clientExpectation(envelope: CommandEnvelope): ExpectedVersion | undefined {
  const expected = (envelope.data as { expectedVersion?: ExpectedVersion }).expectedVersion;
  if (expected === undefined || expected === ANY) return undefined;
  return expected === 'exists' ? STREAM_EXISTS : expected;
}

/** The handler of every command type this instance serves, by command type. */
export function commandHandlers(
  store: EventStore,
  config: Pick<Config, 'TRAINER_SPEED'>,
): Record<string, CommandHandler> {
  return {
    MoveTrainer: deciderHandler(store, {
      decider: trainerDecider({ speed: config.TRAINER_SPEED }),
      toCommand: (envelope): MoveTrainer => {
        const { trainerId, action, direction } = parse(moveTrainerData, envelope);
        return {
          type: 'MoveTrainer',
          data: { trainerId, action, direction },
          metadata: envelope.metadata,
        };
      },
      streamId: (command) => trainerStreamId(command.data.trainerId),
      expectedVersion: clientExpectation,
      notify: trainerNotifications,
      result: (command, events) => moveResult(command.metadata.commandId, events[0]!),
    }),
    BroadcastMessage: deciderHandler(store, {
      decider: messageDecider,
      toCommand: (envelope): BroadcastMessage => {
        const { topic, ...rest } = parse(broadcastMessageData, envelope);
        return {
          type: 'BroadcastMessage',
          data: { ...rest, ...(topic ? { topic } : {}) },
          metadata: envelope.metadata,
        };
      },
      streamId: (command) => messageStreamId(command.metadata.userId),
      unversioned: true, // concurrent messages of one sender never conflict
      notify: messageNotifications,
      result: (command) => ({ commandId: command.metadata.commandId }),
    }),
  };
}
