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

/** The deterministic id of the `index`th event a key's append writes. */
function eventIdOf(key: string, index: number): string {
  return uuidv5(`${key}/${index}`, EVENT_ID_NAMESPACE);
}

/** Where a decision is committed: its idempotency key, the events' metadata, the reply channel. */
export interface CommitTarget {
  /** The command id, or a process step key (`<deploymentId>/<stage>/<step>`). */
  readonly key: string;
  readonly metadata: Partial<Omit<EventMetadata, 'serverId'>>;
  /** Publish the key here once the outcome is recorded (the waiting instance's reply channel). */
  readonly replyChannel?: string;
  /** The bus entry acknowledged in the same atomic step as the outcome. */
  readonly acknowledge?: string;
  /**
   * The stream the command targets (`CommandEnvelope.metadata.streamId`): with partitions its
   * outcome, reply and entry live in that stream's partition, so an answer is recorded there and
   * an append to another stream is refused.
   */
  readonly streamId?: string;
  /**
   * A redelivered command (sent at `since`): with a store that has `findAppended`
   * (EventStoreDB), its stream's tail is searched for its events before anything is committed.
   */
  readonly lookBack?: { readonly since?: string };
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

/** How long a round waits for its slowest decisions before committing the others (ms). */
const STRAGGLER_MS = 100;

/** A decision being made, or made: the handler's decision, or its failure. */
type Decided = { readonly decision: Decision } | { readonly error: unknown };

/** A command of a round, with its decision under way. */
interface Deciding {
  readonly item: BatchItem;
  readonly index: number;
  readonly deciding: Promise<Decided>;
}

/** The values of `promises` settled within `ms` (undefined for the ones still pending then). */
function readyWithin<T>(promises: readonly Promise<T>[], ms: number): Promise<(T | undefined)[]> {
  const values: (T | undefined)[] = new Array(promises.length);
  let left = promises.length;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([...values]), ms);
    promises.forEach((promise, i) => {
      void promise.then((value) => {
        values[i] = value;
        left -= 1;
        if (left === 0) {
          clearTimeout(timer);
          resolve(values);
        }
      });
    });
  });
}

/** A command of a batch, and the bus entry its commit acknowledges (if it came from one). */
export interface BatchItem {
  readonly command: CommandEnvelope;
  readonly acknowledge?: string;
  /** Delivered before (a reclaimed or retried entry): it may have been committed already. */
  readonly redelivered?: boolean;
}

/** What became of a command of a batch: its outcome, or the (transient) error that stopped it. */
export type ItemResult =
  | { readonly outcome: Outcome; readonly duplicate: boolean }
  | { readonly error: unknown };

/**
 * The target of a command from the bus. A redelivered command, or one decided again after a
 * conflict (another writer — perhaps another instance with this very command), looks back.
 */
function targetOf({ command, acknowledge, redelivered }: BatchItem, round: number): CommitTarget {
  const { id, metadata } = command;
  return {
    ...(acknowledge ? { acknowledge } : {}),
    ...(redelivered || round > 0 ? { lookBack: { since: metadata.timestamp } } : {}),
    key: keyOf(command),
    metadata: {
      commandId: id,
      causationId: id,
      correlationId: metadata.correlationId,
      userId: metadata.userId,
      timestamp: metadata.timestamp,
      ...(metadata.traceparent ? { traceparent: metadata.traceparent } : {}),
    },
    ...(metadata.replyTo ? { replyChannel: metadata.replyTo } : {}),
    ...(metadata.streamId ? { streamId: metadata.streamId } : {}),
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

  /**
   * The outcome recorded for a command id or step key, while it is remembered; `streamId` (the
   * stream it targets) saves looking in every partition.
   */
  outcomeOf(key: string, streamId?: string): Promise<Outcome | undefined> {
    return this.store.getOutcome(key, streamId === undefined ? {} : { streamId });
  }

  /**
   * Handles a command until its outcome is recorded (a batch of one): decides, commits, and
   * decides again after a conflict with another writer (bounded). An `AnswerError` thrown by the
   * handler is recorded as the answer; anything else is thrown (transient: the bus retries it).
   */
  async handle(handler: CommandHandler, command: CommandEnvelope): Promise<Outcome> {
    const [settled] = this.handleBatch(() => handler, [{ command }]);
    const result = await settled;
    if (!result || 'error' in result) throw result?.error;
    return result.outcome;
  }

  /**
   * Handles commands read together (group commit): decides every one (commands for one stream in
   * order, each on the state the previous produced), commits all the decisions in one script
   * call — each with its own dedup and version check, and the acknowledgement of its entry — and
   * decides again the ones that conflicted with another writer. One command's conflict, duplicate
   * or failure does not fail the others: each command's result (one promise each, settled as
   * soon as that command is done) says what became of it.
   */
  handleBatch(
    handlerOf: (command: CommandEnvelope) => CommandHandler | undefined,
    items: readonly BatchItem[],
  ): Promise<ItemResult>[] {
    const started = performance.now();
    const settles: ((result: ItemResult) => void)[] = [];
    const results = items.map(
      (item) =>
        new Promise<ItemResult>((resolve) => {
          settles.push((result) => {
            this.observe(item, result, started);
            resolve(result);
          });
        }),
    );
    const decide = (item: BatchItem) => decided(handlerOf(item.command), item.command);
    const batch = items.map((item, index) => ({ item, index, deciding: decide(item) }));
    void this.round(batch, (index, result) => settles[index]!(result), decide, 0);
    return results;
  }

  /**
   * Commits the decisions of one round together; decides again (a next round) the ones that
   * conflicted. A decision still pending STRAGGLER_MS into the round does not hold the others
   * back: it is committed on its own once it is ready.
   */
  private async round(
    batch: readonly Deciding[],
    settle: (index: number, result: ItemResult) => void,
    decide: (item: BatchItem) => Promise<Decided>,
    round: number,
  ): Promise<void> {
    if (batch.length === 0) return;
    const ready =
      batch.length === 1
        ? [await batch[0]!.deciding]
        : await readyWithin(
            batch.map((b) => b.deciding),
            STRAGGLER_MS,
          );
    const late = batch.filter((_, i) => ready[i] === undefined);
    const lateRounds = late.map((b) => this.round([b], settle, decide, round));
    // every commit is asked for in this one turn: the store commits them in one script call
    const commits = batch.flatMap((b, i) => {
      const decision = ready[i];
      if (decision === undefined) return [];
      const committed =
        'error' in decision
          ? Promise.resolve(decision)
          : this.commit(decision.decision, targetOf(b.item, round)).catch((error: unknown) => ({
              error,
            }));
      return [committed.then((c) => ({ b, c }))];
    });
    const again: Deciding[] = [];
    for (const { b, c } of await Promise.all(commits)) {
      if ('error' in c) settle(b.index, c);
      else if (c.status !== 'conflict') {
        settle(b.index, { outcome: c.outcome, duplicate: c.status === 'duplicate' });
      } else if (round < this.maxConflictRetries) {
        again.push({ ...b, deciding: decide(b.item) });
      } else {
        const error = new Error(`${b.item.command.type} kept conflicting (${round + 1} rounds)`);
        settle(b.index, { error });
      }
    }
    await Promise.all([this.round(again, settle, decide, round + 1), ...lateRounds]);
  }

  private observe(item: BatchItem, result: ItemResult, started: number): void {
    if (!this.options.observe) return;
    const outcome =
      'error' in result ? 'failed' : result.outcome.kind === 'appended' ? 'ok' : 'rejected';
    const seconds = (performance.now() - started) / 1000;
    this.options.observe({ type: item.command.type, outcome, seconds });
  }

  /** The bus's processor of commands: batches handled by their types' handlers. */
  processor(handlers: Readonly<Record<string, CommandHandler>>): EntryProcessor {
    return {
      processBatch: (entries) =>
        this.handleBatch(
          (command) => handlers[command.type],
          entries.map(({ entryId, command, deliveries }) => ({
            command,
            acknowledge: entryId,
            redelivered: deliveries > 1,
          })),
        ).map((settled) =>
          settled.then((result) =>
            'error' in result
              ? result
              : {
                  acknowledged: this.store.acknowledgesEntries !== false,
                  duplicate: result.duplicate,
                },
          ),
        ),
    };
  }

  /** Commits one decision under `target`'s key: its events and all they carry, or its answer. */
  async commit(decision: Decision, target: CommitTarget): Promise<Committed> {
    const earlier = await this.foundAppended(target, decision);
    if (earlier) return { status: 'duplicate', outcome: earlier };
    if (decision.kind === 'reject') return this.answer(decision.error, target);
    if (target.streamId !== undefined && target.streamId !== decision.streamId) {
      // its entry, outcome and reply live in its stream's partition: never commit it elsewhere
      throw new Error(
        `${target.key} names stream ${target.streamId} but decided to append to ${decision.streamId}: a command appends to the stream its definition's streamId gives`,
      );
    }
    const on = { ...target, streamId: decision.streamId };
    try {
      return await this.append(decision, on);
    } catch (error) {
      if (error instanceof OverloadedError) return this.answer(error, on); // a full job queue
      if (!(error instanceof ConcurrencyError)) throw error;
      if (!decision.expectedByClient)
        return { status: 'conflict', actualVersion: error.actualVersion };
      const { streamId, expectedVersion } = decision;
      return this.answer(new ConcurrencyError(streamId, expectedVersion, error.actualVersion), on);
    }
  }

  /**
   * A redelivered command's events already in its stream (EventStoreDB: `findAppended`), so it is
   * neither appended again on a stream that moved on nor answered with a different decision.
   */
  private async foundAppended(
    target: CommitTarget,
    decision: Decision,
  ): Promise<Appended | undefined> {
    if (!target.lookBack || !this.store.findAppended) return undefined;
    const streamId =
      target.streamId ?? (decision.kind === 'append' ? decision.streamId : undefined);
    if (streamId === undefined) return undefined;
    return this.store.findAppended(streamId, eventIdOf(target.key, 0), target.lookBack.since);
  }

  private async append(decision: AppendDecision, target: CommitTarget): Promise<Committed> {
    const appended = await this.store.append(
      decision.streamId,
      decision.events.map((e, i) => ({
        id: eventIdOf(target.key, i),
        type: e.type,
        data: e.data,
      })),
      {
        expectedVersion: decision.expectedVersion,
        idempotencyKey: target.key,
        result: decision.result,
        ...(decision.resultDerived ? { resultDerived: true } : {}),
        metadata: target.metadata,
        notifications: decision.notifications,
        ...(decision.job ? { enqueue: decision.job } : {}),
        ...(target.replyChannel ? { replyChannel: target.replyChannel } : {}),
        ...(target.acknowledge ? { acknowledge: target.acknowledge } : {}),
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
      {
        ...(target.replyChannel ? { replyChannel: target.replyChannel } : {}),
        ...(target.acknowledge ? { acknowledge: target.acknowledge } : {}),
        ...(target.streamId !== undefined ? { streamId: target.streamId } : {}),
      },
    );
    return recorded.recorded
      ? { status: 'answered', outcome: recorded.outcome }
      : { status: 'duplicate', outcome: recorded.outcome };
  }
}

/**
 * The handler's decision; an `AnswerError` it throws is the decision to answer with it, anything
 * else the command's (transient) failure.
 */
async function decided(
  handler: CommandHandler | undefined,
  command: CommandEnvelope,
): Promise<Decided> {
  try {
    if (!handler) throw new Error(`no handler for command type ${command.type}`);
    return { decision: await handler(command) };
  } catch (error) {
    if (isAnswerError(error)) return { decision: { kind: 'reject', error } };
    return { error };
  }
}

/** A one-line description of any thrown value, for logs and dead letters. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
