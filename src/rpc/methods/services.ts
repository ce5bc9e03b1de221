import type { CommandBus, CommandEnvelope } from '../../commands/command-bus.js';
import type { SecretBox } from '../../connections/secret-box.js';
import type { CommandMetadata } from '../../domain/decider.js';
import { RecordedAnswerError } from '../../errors.js';
import type { Json } from '../../events/envelope.js';
import type { Appended, EventStore } from '../../events/event-store.js';
import type { ReadModels } from '../../projections/read-models.js';
import type { RpcContext } from '../method.js';

/** What the method table is built from (wired in main.ts). */
export interface RpcServices {
  readonly serverId: string;
  readonly storeName: string;
  readonly store: EventStore;
  readonly bus: CommandBus;
  /** Queries over the projections' read models. */
  readonly readModels: ReadModels;
  /** COMMAND_TIMEOUT_MS */
  readonly commandTimeoutMs: number;
  /** TRAINER_SPEED */
  readonly trainerSpeed: number;
  /** Redis connection state, or undefined on the memory store. */
  redisStatus(): string | undefined;
  /** SSE sessions and distinct users connected to this instance. */
  readonly realtime?: {
    status(): { sessions: number; connectedUsers: number };
    presence(): Promise<
      readonly { serverId: string; sessions: number; users: readonly string[] }[]
    >;
  };
  /** Commands waiting in the group and dead-lettered ones. */
  backlog(): Promise<{ readonly pending: number; readonly lag: number; readonly dead: number }>;
  /** Seals connection secrets under SECRET_KEY (`connect.*` answer -32603 without it). */
  readonly secretBox?: SecretBox;
}

/** The command envelope of an RPC call, stamped with the caller and the request's correlation id. */
export function envelopeOf(ctx: RpcContext, id: string, type: string, data: Json): CommandEnvelope {
  const metadata: CommandMetadata = {
    commandId: id,
    userId: ctx.user.userId,
    correlationId: ctx.correlationId,
    timestamp: new Date().toISOString(),
    groups: ctx.user.groups,
    roles: ctx.user.roles,
  };
  return { id, type, data, metadata };
}

/**
 * Sends a command and waits for its outcome: the appended outcome, or its recorded answer thrown
 * again (a domain error, a conflict, `dead`), exactly as the first handling answered.
 */
export async function sendAndWait(
  services: RpcServices,
  command: CommandEnvelope,
): Promise<Appended> {
  const sent = await services.bus.send(command, {
    wait: true,
    timeoutMs: services.commandTimeoutMs,
  });
  if (sent.status !== 'handled')
    throw new Error('the bus queued a command it was asked to wait for');
  const { outcome } = sent;
  if (outcome.kind === 'appended') return outcome;
  throw new RecordedAnswerError(outcome.error);
}

/** The `{version, globalPosition}` of the last event of an append. */
export function positionOf(outcome: Appended): { version: number; globalPosition: string } {
  return { version: outcome.lastVersion, globalPosition: outcome.globalPositions.at(-1) ?? '' };
}
