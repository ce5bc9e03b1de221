/**
 * The one REST mapping of errors: every error of a REST route (seed 003's `/api/v1/…`) and of an
 * event-stream route (`/events`, `/streams/…/events`, `/api/v1/deploy/…/events`) is answered with
 * seed 003's error body (SPEC.md §6) `{timestamp, status, error, message, errorCode, …}` — `error`
 * the HTTP reason phrase, or the seed's error type ("Deployment Error") — with the error's data as
 * extra fields. Errors are first mapped to their JSON-RPC error by the one JSON-RPC mapping
 * (`toRpcError`), so both surfaces say the same thing. Internal errors say nothing but the
 * correlation id to quote. An event-stream route answers only its refusals (4xx) so; any other
 * failure becomes a retry (`sendStreamError`).
 */
import type { ServerResponse } from 'node:http';
import { type Asker, RPC_CODES, type RpcError, toRpcError } from '../error-codes.js';
import { NotFoundError, type UnauthenticatedError } from '../errors.js';
import type { Json } from '../events/envelope.js';
import { isJsonObject } from '../events/json.js';
import type { Logger } from '../log.js';
import { refuseEventStream } from '../sse/event-stream.js';

/** Seed 003's error body; extra fields (`issues`, `deploymentId`, …) come from the error's data. */
export interface RestErrorBody {
  /** ISO-8601 time of the answer (UTC). */
  readonly timestamp: string;
  readonly status: number;
  /** The HTTP reason phrase (e.g. `Bad Request`), or seed 003's error type (`Deployment Error`). */
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

/**
 * Seed 003 answers a deployment that cannot start for a missing connection, or a result that is
 * not there, with 400 "Deployment Error" (not a 404): these kinds of `NotFoundError`.
 */
const DEPLOYMENT_ERRORS: Readonly<Record<string, string>> = {
  githubConnection: 'CONNECTION_NOT_FOUND',
  awsConnection: 'CONNECTION_NOT_FOUND',
  deploymentResult: 'NOT_FOUND',
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

/** A REST error body for `status`; `extra` fields come first, the standard ones win. */
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

/** The REST body of a JSON-RPC error object. */
function bodyOfRpcError(error: RpcError, correlationId?: string): RestErrorBody {
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
      : isJsonObject(data)
        ? data
        : {};
  return restErrorBody(status, errorCode, error.message, extra);
}

/** The REST error body of any thrown value (the one mapping; see the module comment). */
export function restErrorOf(thrown: unknown, correlationId?: string, asker?: Asker): RestErrorBody {
  if (thrown instanceof NotFoundError && DEPLOYMENT_ERRORS[thrown.kind]) {
    const body = restErrorBody(400, DEPLOYMENT_ERRORS[thrown.kind]!, thrown.message);
    return { ...body, error: 'Deployment Error' };
  }
  return bodyOfRpcError(toRpcError(thrown, correlationId, asker), correlationId);
}

/** The 401 body of `authenticate({unauthorizedBody})` on REST and event-stream routes. */
export function restUnauthorizedBody(error: UnauthenticatedError): RestErrorBody {
  return restErrorOf(error);
}

/**
 * Answers a thrown value as a REST error, on express's response or a plain http one: typed errors
 * with their own message, anything else as 500 with only the correlation id (the error itself is
 * logged here, never sent). A response whose headers went out already (an event stream) is ended.
 */
export function sendRestError(
  res: ServerResponse,
  thrown: unknown,
  logger: Logger,
  correlationId?: string,
  asker?: Asker,
): void {
  const body = restErrorOf(thrown, correlationId, asker);
  logError(body, thrown, logger, correlationId);
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
  if (body.errorCode === 'OVERLOADED' && typeof body.retryAfterMs === 'number') {
    headers['Retry-After'] = String(Math.max(1, Math.ceil(body.retryAfterMs / 1000)));
  }
  res.writeHead(body.status, headers);
  res.end(JSON.stringify(body));
}

/**
 * Answers a thrown value on an event-stream route (`/events`, `/streams/…/events`,
 * `/api/v1/deploy/…/events`): a refusal (4xx) as a REST error, since the client must not retry
 * it; anything else (Redis away, a 5xx) as a 200 event stream with a jittered `retry:`, closed at
 * once, since a browser stops reconnecting for good on a 5xx and the next try may work.
 */
export function sendStreamError(
  res: ServerResponse,
  thrown: unknown,
  logger: Logger,
  retryMs: number,
  correlationId?: string,
): void {
  const body = restErrorOf(thrown, correlationId);
  if (body.status < 500 || res.headersSent) {
    sendRestError(res, thrown, logger, correlationId);
    return;
  }
  logError(body, thrown, logger, correlationId);
  refuseEventStream(res, retryMs);
}

function logError(
  body: RestErrorBody,
  thrown: unknown,
  logger: Logger,
  correlationId: string | undefined,
): void {
  if (body.errorCode === 'UNEXPECTED_ERROR') {
    logger.error('request failed', { error: describe(thrown), correlationId });
  } else {
    const reason = thrown instanceof Error ? thrown.message : body.message; // the whole of it
    logger.debug('request refused', { status: body.status, reason });
  }
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : String(error);
}
