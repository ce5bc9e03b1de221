/**
 * The typed `send` of the edges: turns validated params into a defined command, sends it on the
 * bus, waits, and answers with the definition's typed answer — or throws the recorded answer
 * again as its typed error (a domain error, `DeadLetteredError`, `CommandTimeoutError`). No call
 * site casts a result: the recorded result is decoded with the definition's schema.
 */
import { v4 as uuidv4 } from 'uuid';
import type { z } from 'zod';
import type { Actor } from '../domain/actor.js';
import type { CommandDefinition, Landed } from '../domain/command-definition.js';
import type { Command, DomainEvent, StoredEvent } from '../domain/decider.js';
import type { Json, JsonData } from '../events/envelope.js';
import { type Appended, errorOfOutcome, landedAt, type Outcome } from '../events/outcome.js';
import type { TraceContext } from '../tracing/http.js';
import { endWithError, sendSpan, traceparentOf, tracestateOf } from '../tracing/index.js';
import type { CommandBus } from './command-bus.js';

/** Who sends a command, and the request it came with. */
export interface SendContext {
  readonly actor: Actor;
  /** The request's correlation id, carried into the command's events. */
  readonly correlationId: string;
  /** The request's trace context (its span's, with tracing on), carried into the command. */
  readonly trace?: TraceContext;
}

/** What the sender needs beside the bus. */
export interface CommandSenderOptions {
  /** COMMAND_TIMEOUT_MS: how long `send` waits for the outcome. */
  readonly timeoutMs: number;
  /** Seals connection secrets under SECRET_KEY (see `EdgeContext.seal`). */
  seal(connectionId: string, secretsJson: string): string;
}

/** The client's `commandId` param, when the command's params have one. */
function commandIdOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null || !('commandId' in params)) return undefined;
  return typeof params.commandId === 'string' ? params.commandId : undefined;
}

/** Sends defined commands and answers with their typed answers. */
export class CommandSender {
  constructor(
    private readonly bus: CommandBus,
    private readonly options: CommandSenderOptions,
  ) {}

  /**
   * Sends the command of `params` (validated by the definition's schema) as `context.actor` and
   * waits for its answer; a repeat of the same `commandId` gets the first answer again.
   */
  async send<P extends z.ZodObject, A extends Json>(
    definition: CommandDefinition<
      string,
      P,
      JsonData,
      unknown,
      Command,
      DomainEvent,
      unknown,
      Json,
      A
    >,
    params: z.output<P>,
    context: SendContext,
  ): Promise<A> {
    const commandId = commandIdOf(params) ?? uuidv4();
    const { actor } = context;
    const data = definition.toData(params, { actor, commandId, seal: this.options.seal });
    const span = sendSpan({ id: commandId, type: definition.type }, context.correlationId, {
      ...context.trace,
    });
    const trace = span
      ? { traceparent: traceparentOf(span), tracestate: tracestateOf(span) }
      : context.trace;
    const metadata = {
      commandId,
      userId: actor.userId,
      correlationId: context.correlationId,
      timestamp: new Date().toISOString(),
      groups: actor.groups,
      roles: actor.roles,
      ...(trace?.traceparent ? { traceparent: trace.traceparent } : {}),
      ...(trace?.traceparent && trace.tracestate ? { tracestate: trace.tracestate } : {}),
    };
    // the bus routes the command to its stream's partition (DESIGN.md §8)
    const streamId = definition.streamId({ type: definition.type, data, metadata });
    try {
      const sent = await this.bus.send(
        { id: commandId, type: definition.type, data, metadata: { ...metadata, streamId } },
        { wait: true, timeoutMs: this.options.timeoutMs },
      );
      if (sent.status !== 'handled') {
        throw new Error('the bus queued a command it was asked to wait for');
      }
      span?.addEvent('reply', { 'streamcast.outcome': sent.outcome.kind });
      span?.end();
      return answerOf(definition, commandId, sent.outcome);
    } catch (error) {
      endWithError(span, error);
      throw error;
    }
  }
}

/** What a definition says about its result. */
interface ResultSource<R extends Json> {
  readonly type: string;
  readonly result: z.ZodType<R>;
  decode(event: StoredEvent): DomainEvent | undefined;
  resultOfEvents?(commandId: string, events: readonly never[]): R;
}

/**
 * The result of an appended outcome: as recorded, or derived again from its recorded events (a
 * command record that left it out: `CommandDefinition.resultOfEvents`).
 */
export function recordedResult(
  definition: ResultSource<Json>,
  commandId: string,
  outcome: Appended,
): Json | undefined {
  if (outcome.result !== undefined || !outcome.recorded || !definition.resultOfEvents) {
    return outcome.result;
  }
  const events = outcome.recorded.map((e) => definition.decode(e));
  if (events.some((e) => e === undefined)) return undefined;
  return definition.resultOfEvents(commandId, events as never[]);
}

/** The result of an appended outcome, derived by whichever definition of `catalogue` made it. */
export function resultIn(
  catalogue: readonly ResultSource<Json>[],
  commandId: string,
  outcome: Appended,
): Json | undefined {
  const first = outcome.recorded?.[0];
  if (outcome.result !== undefined || !first) return outcome.result;
  const maker = catalogue.find((d) => {
    try {
      return d.resultOfEvents !== undefined && d.decode(first) !== undefined;
    } catch {
      return false;
    }
  });
  return maker ? recordedResult(maker, commandId, outcome) : undefined;
}

/** The typed answer of an outcome, or its recorded answer thrown again. */
export function answerOf<R extends Json, A extends Json>(
  definition: ResultSource<R> & { answerOf(result: R, landed: Landed): A },
  commandId: string,
  outcome: Outcome,
): A {
  if (outcome.kind !== 'appended') throw errorOfOutcome(commandId, outcome);
  const result = definition.result.safeParse(recordedResult(definition, commandId, outcome));
  if (!result.success) {
    throw new Error(
      `the recorded result of ${definition.type} ${commandId} does not have its shape: ${result.error.issues[0]?.message}`,
    );
  }
  return definition.answerOf(result.data, landedAt(outcome));
}
