/**
 * The REST error body of seed 003 (SPEC.md §6): `{timestamp, status, error, message, errorCode?,
 * …}`, with `error` the HTTP reason phrase. Errors are first mapped to their JSON-RPC error by the
 * one mapping (`toRpcError`), so both surfaces say the same thing; this module only turns that
 * into an HTTP status and body. Internal errors say nothing but the correlation id to quote.
 */
import type { Response } from 'express';
import { RPC_CODES, type RpcError, toRpcError } from '../error-codes.js';
import type { UnauthenticatedError } from '../errors.js';
import type { Json } from '../events/envelope.js';
import type { Logger } from '../log.js';

/** Seed 003's error body; extra fields (`issues`, `deploymentId`, …) come from the error's data. */
export interface RestErrorBody {
  /** ISO-8601 time of the answer (UTC). */
  readonly timestamp: string;
  readonly status: number;
  /** The HTTP reason phrase, e.g. `Bad Request`. */
  readonly error: string;
  /** What was wrong and what to do; never a secret. */
  readonly message: string;
  /** A stable code, e.g. `VALIDATION_FAILED` (seed 003's `errorCode`). */
  readonly errorCode: string;
  readonly [extra: string]: Json;
}

/** HTTP status and `errorCode` of each JSON-RPC code. */
const BY_RPC_CODE: Readonly<Record<number, readonly [status: number, errorCode: string]>> = {
  [RPC_CODES.parseError]: [400, 'INVALID_JSON'],
  [RPC_CODES.invalidRequest]: [400, 'INVALID_REQUEST'],
  [RPC_CODES.invalidParams]: [400, 'VALIDATION_FAILED'],
  [RPC_CODES.unauthenticated]: [401, 'UNAUTHENTICATED'],
  [RPC_CODES.forbidden]: [403, 'FORBIDDEN'],
  [RPC_CODES.notFound]: [404, 'NOT_FOUND'],
  [RPC_CODES.concurrency]: [409, 'CONCURRENCY_CONFLICT'],
  [RPC_CODES.domainRule]: [400, 'DOMAIN_RULE'],
  [RPC_CODES.deploymentRunning]: [400, 'DEPLOYMENT_IN_PROGRESS'],
  [RPC_CODES.overloaded]: [429, 'OVERLOADED'],
  [RPC_CODES.commandTimeout]: [504, 'COMMAND_TIMEOUT'],
  [RPC_CODES.deadLettered]: [500, 'COMMAND_DEAD_LETTERED'],
  [RPC_CODES.readModelLag]: [503, 'READ_MODEL_LAG'],
};

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** A REST error body for `status`; `extra` fields follow the standard ones. */
export function restErrorBody(
  status: number,
  errorCode: string,
  message: string,
  extra: { readonly [k: string]: Json } = {},
): RestErrorBody {
  return {
    ...extra,
    timestamp: new Date().toISOString(),
    status,
    error: REASONS[status] ?? 'Error',
    message,
    errorCode,
  };
}

/** The REST answer of a JSON-RPC error object (the one mapping of typed errors). */
export function restErrorOf(error: RpcError, correlationId?: string): RestErrorBody {
  const [status, errorCode] = BY_RPC_CODE[error.code] ?? [500, 'UNEXPECTED_ERROR'];
  if (status === 500 && error.code !== RPC_CODES.deadLettered) {
    const quote = correlationId ? `; quote correlation id ${correlationId}` : '';
    return restErrorBody(500, 'UNEXPECTED_ERROR', `Unexpected error${quote}`, {
      ...(correlationId ? { correlationId } : {}),
    });
  }
  const { data } = error;
  const extra =
    error.code === RPC_CODES.invalidParams
      ? { issues: data ?? [] }
      : data !== null && typeof data === 'object' && !Array.isArray(data)
        ? (data as { readonly [k: string]: Json })
        : {};
  return restErrorBody(status, errorCode, error.message, extra);
}

/** The 401 body for `authenticate({unauthorizedBody})` on REST routes. */
export function restUnauthorizedBody(error: UnauthenticatedError): RestErrorBody {
  return restErrorBody(401, 'UNAUTHENTICATED', error.message);
}

/**
 * Answers a thrown value as a REST error: typed errors with their own message, anything else as
 * 500 with only the correlation id (the error itself is logged here, never sent).
 */
export function sendRestError(
  res: Response,
  thrown: unknown,
  logger: Logger,
  correlationId?: string,
): void {
  const rpcError = toRpcError(thrown, correlationId);
  const body = restErrorOf(rpcError, correlationId);
  if (rpcError.code === RPC_CODES.internalError) {
    logger.error('REST request failed', { error: describe(thrown), correlationId });
  } else {
    logger.debug('REST request refused', { status: body.status, reason: body.message });
  }
  if (rpcError.code === RPC_CODES.overloaded && typeof body.retryAfterMs === 'number') {
    res.set('Retry-After', String(Math.max(1, Math.ceil(body.retryAfterMs / 1000))));
  }
  res.status(body.status).json(body);
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : String(error);
}
