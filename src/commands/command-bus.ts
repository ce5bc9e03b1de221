import type { CommandMetadata } from '../domain/decider.js';
import type { Json } from '../events/envelope.js';
import type { Outcome } from '../events/event-store.js';

/** A command on the bus: what the client asked, who asked, and where to send the reply. */
export interface CommandEnvelope {
  /** The command id (a UUID): the idempotency key of its effect. */
  readonly id: string;
  readonly type: string;
  readonly data: Json;
  readonly metadata: CommandMetadata & {
    /** The reply channel of the instance waiting for the answer. */
    readonly replyTo?: string;
  };
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
  | { readonly status: 'handled' | 'dead'; readonly outcome: Outcome; readonly owner?: string }
  | { readonly status: 'pending'; readonly owner?: string }
  | { readonly status: 'unknown' };

/**
 * Handles one command. It must record the command's outcome itself: an append with the command id
 * as idempotency key, or a thrown answer (`DomainRuleError`, `ValidationError`, `NotFoundError`,
 * `ForbiddenError`, `ConcurrencyError` of a client's expected version), which the worker records.
 * Any other error is transient: retried with backoff, then dead-lettered.
 */
export type CommandHandler = (command: CommandEnvelope) => Promise<void>;

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
  serve(handlers: Readonly<Record<string, CommandHandler>>): Promise<Worker>;
  status(commandId: string): Promise<CommandStatus>;
  /** The dead-lettered commands, newest first. */
  deadLetters(limit?: number): Promise<readonly DeadLetter[]>;
  /** Sends a dead-lettered command again under the same id; `NotFoundError` if it is not dead. */
  redrive(commandId: string): Promise<void>;
  close(): Promise<void>;
}
