import { toRpcError } from '../error-codes.js';
import {
  ConcurrencyError,
  DomainRuleError,
  ForbiddenError,
  NotFoundError,
  OverloadedError,
  ValidationError,
} from '../errors.js';
import type { OutcomeError } from '../events/event-store.js';

/**
 * True for errors that are the command's answer (recorded, never retried): a broken domain rule,
 * invalid input, a missing or forbidden thing, or a conflict with the client's own expectedVersion.
 * Everything else is transient and retried.
 */
export function isAnswer(error: unknown): boolean {
  return (
    error instanceof DomainRuleError ||
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ForbiddenError ||
    error instanceof OverloadedError || // a full job queue: the answer (a new command may pass)
    error instanceof ConcurrencyError
  );
}

/** The recorded form of an answer: the JSON-RPC error a client gets, now and on every repeat. */
export function outcomeErrorOf(error: unknown): OutcomeError {
  const { code, message, data } = toRpcError(error);
  return data === undefined ? { code, message } : { code, message, data };
}

/** A one-line description of any thrown value, for logs and dead letters. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
