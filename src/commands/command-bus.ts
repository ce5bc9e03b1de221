import type { CommandMetadata } from '../domain/decider.js';
import type { JsonData } from '../events/envelope.js';
import type { Outcome } from '../events/outcome.js';
import type { Decision } from './decision.js';

/** A command on the bus: what the client asked, who asked, and where to send the reply. */
export interface CommandEnvelope {
  /** The command id (a UUID): the idempotency key of its effect. */
  readonly id: string;
  readonly type: string;
  readonly data: JsonData;
  readonly metadata: CommandMetadata & {
    /** The reply channel of the instance waiting for the answer. */
    readonly replyTo?: string;
    /**
     * The stream the command appends to (its definition's `streamId`), set by the sender: with
     * PARTITIONS > 1 the command is enqueued, handled, committed and answered in that stream's
     * partition (DESIGN.md §8), so a partitioned bus refuses a command without it.
     */
    readonly streamId?: string;
    /** W3C trace context of the send (or of the request, with tracing off): issue 16. */
    readonly traceparent?: string;
    readonly tracestate?: string;
  };
}

/**
 * The idempotency key of a command: its sender and its id. A command id identifies one command of
 * one user, so another user's reuse of the same id is another command and never gets its outcome.
 * (A command id is a UUID, so the last `:` separates the two.)
 */
export function commandKey(userId: string, commandId: string): string {
  return `${userId}:${commandId}`;
}

/** The idempotency key of a command on the bus. */
export function keyOf(command: Pick<CommandEnvelope, 'id' | 'metadata'>): string {
  return commandKey(command.metadata.userId, command.id);
}

/** How `send` waits. */
export interface SendOptions {
  /** Wait until the command is handled (default true). */
  readonly wait?: boolean;
  /** How long to wait (default COMMAND_TIMEOUT_MS); past it `CommandTimeoutError`. */
  readonly timeoutMs?: number;
}

/** What `send` answers: the recorded outcome, or `queued` when not waiting. */
export type SendResult =
  | { readonly status: 'queued' }
  | { readonly status: 'handled'; readonly outcome: Outcome };

/** Where a command stands (`command.status`). */
export type CommandStatus =
  | { readonly status: 'handled' | 'dead'; readonly outcome: Outcome }
  | { readonly status: 'pending' }
  | { readonly status: 'unknown' };

/**
 * Decides what one command does: loads what it needs and returns a `Decision` (events with their
 * notifications, result and job, or an answer), or throws an `AnswerError` as the answer. It never
 * appends: the bus hands the decision to the `CommandRuntime`, which commits it and asks again
 * after a conflict with another writer. Any other error is transient: retried with backoff, then
 * dead-lettered.
 */
export type CommandHandler = (command: CommandEnvelope) => Promise<Decision>;

/** An entry a worker read: its id in the stream, the command, and how often it was delivered. */
export interface EntryToProcess {
  readonly entryId: string;
  readonly command: CommandEnvelope;
  readonly deliveries: number;
}

/**
 * What became of an entry: done — acknowledged by the processor or to be by the worker, and
 * `duplicate` when it had been handled before (a redelivery) — or failed.
 */
export type EntryResult =
  | { readonly acknowledged: boolean; readonly duplicate?: boolean }
  | { readonly error: unknown };

/** What a worker does with the entries of its stream (commands, or deployment jobs). */
export interface EntryProcessor {
  /**
   * Processes entries read together until each has its outcome: one promise per entry, settled
   * as soon as that entry is done (a slow one does not hold the others' slots); a transient
   * failure of one is its result (the worker retries it), never a rejection.
   */
  processBatch(entries: readonly EntryToProcess[]): readonly Promise<EntryResult>[];
  /** Told once an entry was dead-lettered after its attempts. */
  deadLettered?(entry: CommandEnvelope, attempts: number, lastError: string): Promise<void>;
}

/** A dead-lettered command (`npm run dead -- list`). */
export interface DeadLetter {
  readonly command: CommandEnvelope;
  readonly error: string;
  readonly attempts: number;
  /** ISO time it was dead-lettered. */
  readonly at: string;
}

/** A running worker; `close()` stops taking commands and finishes or releases what it holds. */
export interface Worker {
  close(): Promise<void>;
}

/**
 * The command bus port. Adapters: Redis (consumer group), memory. Contract:
 * - a command id is enqueued at most once while remembered; a repeat of a handled command is
 *   answered with its recorded outcome without running again;
 * - every enqueued command is handled by exactly one handler run that records its outcome, or
 *   dead-lettered after COMMAND_MAX_ATTEMPTS runs; never dropped;
 * - `send(…, {wait: true})` answers with the outcome, or throws `CommandTimeoutError`.
 */
export interface CommandBus {
  send(command: CommandEnvelope, options?: SendOptions): Promise<SendResult>;
  /** Serves commands with `processor` (`CommandRuntime.processor(handlers)`) until closed. */
  serve(processor: EntryProcessor): Promise<Worker>;
  /** Where `userId`'s command `commandId` stands (another user's command of that id is not seen). */
  status(userId: string, commandId: string): Promise<CommandStatus>;
  /** The dead-lettered commands, newest first. */
  deadLetters(limit?: number): Promise<readonly DeadLetter[]>;
  /** Sends `userId`'s dead-lettered command again under the same id; `NotFoundError` if it is not dead. */
  redrive(userId: string, commandId: string): Promise<void>;
  close(): Promise<void>;
}
