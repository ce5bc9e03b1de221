/**
 * What handling a command decided, before anything is written: the handlers return it and one
 * runtime (`CommandRuntime`) commits it, so no handler appends by itself and many decisions can
 * later be committed together.
 */
import type { AnswerError } from '../errors.js';
import type { ExpectedVersion, Json, NotificationRecord } from '../events/envelope.js';
import type { JobToQueue } from '../events/event-store.js';

/** An event to append, as the decider produced it (the runtime gives it a deterministic id). */
export interface DecidedEvent {
  readonly type: string;
  readonly data: Json;
}

/** Append these events to one stream, with their notifications, result and optional job. */
export interface AppendDecision {
  readonly kind: 'append';
  readonly streamId: string;
  /** The version the decision was made on (`ANY` for a stream without invariants). */
  readonly expectedVersion: ExpectedVersion;
  /**
   * True when the expected version is the client's own: a conflict is then the command's answer
   * (recorded), not a reason to decide again.
   */
  readonly expectedByClient: boolean;
  readonly events: readonly DecidedEvent[];
  /** Written in the same atomic step as the events (DESIGN.md G5). */
  readonly notifications: readonly NotificationRecord[];
  /** The command's result, recorded with the events and answered to every repeat. */
  readonly result: Json;
  /** The result can be derived again from the events (the command record leaves it out). */
  readonly resultDerived?: boolean;
  /** Queued in the same atomic step (a deployment's run). */
  readonly job?: JobToQueue;
}

/** The command's answer is a domain error: recorded, never retried. */
export interface RejectDecision {
  readonly kind: 'reject';
  readonly error: AnswerError;
}

/** What handling one command decided. */
export type Decision = AppendDecision | RejectDecision;
