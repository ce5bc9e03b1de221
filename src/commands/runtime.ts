/**
 * The one runtime that turns decisions into writes: every command's decision (and every step of
 * the deployment process manager) is committed here, as one append with the idempotency key, or
 * as a recorded answer. Handlers only decide.
 */
import { v5 as uuidv5 } from 'uuid';
import { type AnswerError, ConcurrencyError, isAnswerError, OverloadedError } from '../errors.js';
import type { EventMetadata, RecordedEvent } from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import { type Appended, answerRecordOf, type Outcome } from '../events/outcome.js';
import {
  type CommandEnvelope,
  type CommandHandler,
  type EntryProcessor,
  keyOf,
} from './command-bus.js';
import type { AppendDecision, Decision } from './decision.js';

/** Namespace of deterministic event ids: uuid v5 of `<idempotency key>/<index>`. */
const EVENT_ID_NAMESPACE = '6f1c7c52-4a55-4f0e-9d43-1b8f2c5e7a10';

/** Where a decision is committed: its idempotency key, the events' metadata, the reply channel. */
export interface CommitTarget {
  /** The command id, or a process step key (`<deploymentId>/<stage>/<step>`). */
  readonly key: string;
  readonly metadata: Partial<Omit<EventMetadata, 'serverId'>>;
  /** Publish the key here once the outcome is recorded (the waiting instance's reply channel). */
  readonly replyChannel?: string;
}

/** What committing a decision did. */
export type Committed =
  | {
      readonly status: 'appended';
      readonly outcome: Appended;
      readonly events: readonly RecordedEvent[];
    }
  /** The key had an outcome already (a redelivery): nothing was written. */
  | { readonly status: 'duplicate'; readonly outcome: Outcome }
  /** The decision was the answer (a domain error), now recorded. */
  | { readonly status: 'answered'; readonly outcome: Outcome }
  /** Another writer changed the stream first: decide again on its new state. */
  | { readonly status: 'conflict'; readonly actualVersion: number };

/** One handled command, as `CommandRuntimeOptions.observe` hears of it (for metrics). */
export interface HandledCommand {
  readonly type: string;
  /** `ok`: events appended; `rejected`: answered with a domain error; `failed`: thrown (retried). */
  readonly outcome: 'ok' | 'rejected' | 'failed';
  /** From the first decision to the recorded outcome (or the failure). */
  readonly seconds: number;
}

/** Tuning of the runtime. */
export interface CommandRuntimeOptions {
  /** Decide-again rounds after conflicts with other writers (default 5). */
  readonly maxConflictRetries?: number;
  /** Hears of every `handle` (metrics). */
  readonly observe?: (handled: HandledCommand) => void;
}

/** The target of a command from the bus. */
function targetOf(command: CommandEnvelope): CommitTarget {
  const { id, metadata } = command;
  return {
    key: keyOf(command),
    metadata: {
      commandId: id,
      causationId: id,
      correlationId: metadata.correlationId,
      userId: metadata.userId,
      timestamp: metadata.timestamp,
    },
    ...(metadata.replyTo ? { replyChannel: metadata.replyTo } : {}),
  };
}

/** Commits decisions to the event store (DESIGN.md G1, G3, G5). */
export class CommandRuntime {
  private readonly maxConflictRetries: number;

  constructor(
    private readonly store: EventStore,
    private readonly options: CommandRuntimeOptions = {},
  ) {
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
  }

  /** The outcome recorded for a command id or step key, while it is remembered. */
  outcomeOf(key: string): Promise<Outcome | undefined> {
    return this.store.getOutcome(key);
  }

  /**
   * Handles a command until its outcome is recorded: decides, commits, and decides again after a
   * conflict with another writer (bounded). An `AnswerError` thrown by the handler is recorded as
   * the answer; anything else is thrown (transient: the bus retries it).
   */
  async handle(handler: CommandHandler, command: CommandEnvelope): Promise<Outcome> {
    const started = performance.now();
    const observe = (outcome: HandledCommand['outcome']) =>
      this.options.observe?.({
        type: command.type,
        outcome,
        seconds: (performance.now() - started) / 1000,
      });
    try {
      const outcome = await this.handleOnce(handler, command);
      observe(outcome.kind === 'appended' ? 'ok' : 'rejected');
      return outcome;
    } catch (error) {
      observe('failed');
      throw error;
    }
  }

  private async handleOnce(handler: CommandHandler, command: CommandEnvelope): Promise<Outcome> {
    const target = targetOf(command);
    for (let round = 0; ; round++) {
      const decision = await decided(handler, command);
      const committed = await this.commit(decision, target);
      if (committed.status !== 'conflict') return committed.outcome;
      if (round >= this.maxConflictRetries) {
        const streamId = decision.kind === 'append' ? decision.streamId : '';
        throw new Error(`${streamId} kept changing under ${command.type} (${round + 1} conflicts)`);
      }
    }
  }

  /** The bus's processor of commands: each handled by its type's handler until it has an outcome. */
  processor(handlers: Readonly<Record<string, CommandHandler>>): EntryProcessor {
    return {
      process: async (command) => {
        const handler = handlers[command.type];
        if (!handler) throw new Error(`no handler for command type ${command.type}`);
        await this.handle(handler, command);
      },
      handled: async (command) => (await this.outcomeOf(keyOf(command))) !== undefined,
    };
  }

  /** Commits one decision under `target`'s key: its events and all they carry, or its answer. */
  async commit(decision: Decision, target: CommitTarget): Promise<Committed> {
    if (decision.kind === 'reject') return this.answer(decision.error, target);
    try {
      return await this.append(decision, target);
    } catch (error) {
      if (error instanceof OverloadedError) return this.answer(error, target); // a full job queue
      if (!(error instanceof ConcurrencyError)) throw error;
      if (!decision.expectedByClient)
        return { status: 'conflict', actualVersion: error.actualVersion };
      const { streamId, expectedVersion } = decision;
      return this.answer(
        new ConcurrencyError(streamId, expectedVersion, error.actualVersion),
        target,
      );
    }
  }

  private async append(decision: AppendDecision, target: CommitTarget): Promise<Committed> {
    const appended = await this.store.append(
      decision.streamId,
      decision.events.map((e, i) => ({
        id: uuidv5(`${target.key}/${i}`, EVENT_ID_NAMESPACE),
        type: e.type,
        data: e.data,
      })),
      {
        expectedVersion: decision.expectedVersion,
        idempotencyKey: target.key,
        result: decision.result,
        metadata: target.metadata,
        notifications: decision.notifications,
        ...(decision.job ? { enqueue: decision.job } : {}),
        ...(target.replyChannel ? { replyChannel: target.replyChannel } : {}),
      },
    );
    if (appended.duplicate) return { status: 'duplicate', outcome: appended.outcome };
    const { events, notifications: _, duplicate: __, ...outcome } = appended;
    return { status: 'appended', outcome, events };
  }

  /** Records an answer, unless the key has an outcome already (which then stands). */
  private async answer(error: AnswerError, target: CommitTarget): Promise<Committed> {
    const recorded = await this.store.recordOutcome(
      target.key,
      { kind: 'rejected', error: answerRecordOf(error) },
      target.replyChannel ? { replyChannel: target.replyChannel } : {},
    );
    return recorded.recorded
      ? { status: 'answered', outcome: recorded.outcome }
      : { status: 'duplicate', outcome: recorded.outcome };
  }
}

/** The handler's decision; an `AnswerError` it throws is the decision to answer with it. */
async function decided(handler: CommandHandler, command: CommandEnvelope): Promise<Decision> {
  try {
    return await handler(command);
  } catch (error) {
    if (isAnswerError(error)) return { kind: 'reject', error };
    throw error;
  }
}

/** A one-line description of any thrown value, for logs and dead letters. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
