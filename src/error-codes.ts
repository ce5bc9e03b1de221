import {
  CommandTimeoutError,
  ConcurrencyError,
  DeadLetteredError,
  DomainRuleError,
  ForbiddenError,
  NotFoundError,
  OverloadedError,
  ReadModelLagError,
  UnauthenticatedError,
  ValidationError,
} from './errors.js';
import type { Json } from './events/envelope.js';

/** A JSON-RPC 2.0 error object. */
export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: Json;
}

/** Maps a typed error to its JSON-RPC error (SPEC.md §4 "Error codes"); anything else is internal. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof ValidationError)
    return { code: -32602, message: error.message, data: error.issues.map((i) => ({ ...i })) };
  if (error instanceof UnauthenticatedError) return { code: -32001, message: error.message };
  if (error instanceof ForbiddenError) return { code: -32003, message: error.message };
  if (error instanceof NotFoundError)
    return { code: -32004, message: error.message, data: { kind: error.kind, id: error.id } };
  if (error instanceof ConcurrencyError) {
    return {
      code: -32009,
      message: error.message,
      data: { expectedVersion: error.expectedVersion, actualVersion: error.actualVersion },
    };
  }
  if (error instanceof DomainRuleError)
    return { code: -32010, message: error.message, data: { rule: error.rule } };
  if (error instanceof OverloadedError)
    return { code: -32029, message: error.message, data: { retryAfterMs: error.retryAfterMs } };
  if (error instanceof CommandTimeoutError)
    return { code: -32030, message: error.message, data: { commandId: error.commandId } };
  if (error instanceof DeadLetteredError) {
    return {
      code: -32031,
      message: error.message,
      data: { commandId: error.commandId, attempts: error.attempts, lastError: error.lastError },
    };
  }
  if (error instanceof ReadModelLagError) {
    return {
      code: -32032,
      message: error.message,
      data: {
        projection: error.projection,
        minPosition: error.minPosition,
        position: error.position,
      },
    };
  }
  return { code: -32603, message: 'Internal error' };
}
