/**
 * The one place that turns errors into JSON-RPC error objects (SPEC.md §4 "Error codes"): the
 * specification's own codes for protocol problems, and one code per typed error of `src/errors.ts`.
 * Anything else is an internal error whose message never leaves the server.
 */
import type { z } from 'zod';
import type { AnswerKind } from './domain/command-definition.js';
import {
  CommandTimeoutError,
  ConcurrencyError,
  DeadLetteredError,
  DeploymentRunningError,
  DomainRuleError,
  ForbiddenError,
  type Issue,
  NotFoundError,
  OverloadedError,
  ReadModelLagError,
  ReplicaShortfallError,
  UnauthenticatedError,
  ValidationError,
} from './errors.js';
import type { Json } from './events/envelope.js';

/** Every JSON-RPC error code streamcast answers with. */
export const RPC_CODES = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  unauthenticated: -32001,
  forbidden: -32003,
  notFound: -32004,
  concurrency: -32009,
  domainRule: -32010,
  deploymentRunning: -32011,
  overloaded: -32029,
  commandTimeout: -32030,
  deadLettered: -32031,
  readModelLag: -32032,
} as const;

/** One of `RPC_CODES`. */
export type RpcErrorCode = (typeof RPC_CODES)[keyof typeof RPC_CODES];

/** What each code means, in one line (the `message` of OpenRPC error objects). */
export const RPC_CODE_MEANINGS: Readonly<Record<RpcErrorCode, string>> = {
  [-32700]: 'Parse error',
  [-32600]: 'Invalid Request',
  [-32601]: 'Method not found',
  [-32602]: 'Invalid params',
  [-32603]: 'Internal error',
  [-32001]: 'Unauthenticated: missing or bad credentials',
  [-32003]: 'Forbidden: the caller may not do this',
  [-32004]: 'Not found',
  [-32009]: 'Concurrency conflict: the stream is not at expectedVersion',
  [-32010]: 'Domain rule broken',
  [-32011]: 'Deployment still running',
  [-32029]: 'Overloaded: retry after retryAfterMs',
  [-32030]:
    'Command not finished in time, or its outcome not yet on REDIS_WAIT_REPLICAS replicas (ask command.status or retry with the same id)',
  [-32031]: 'Command dead-lettered after its attempts',
  [-32032]: 'Read model did not reach minPosition in time',
};

/** The code of each kind of domain answer a command may give (`CommandDefinition.answers`). */
export const ANSWER_CODES: Readonly<Record<AnswerKind, RpcErrorCode>> = {
  validation: RPC_CODES.invalidParams,
  'not-found': RPC_CODES.notFound,
  forbidden: RPC_CODES.forbidden,
  conflict: RPC_CODES.concurrency,
  rule: RPC_CODES.domainRule,
  overloaded: RPC_CODES.overloaded,
};

/** What any command may answer besides its own domain errors: a full backlog, a timeout, dead. */
export const COMMAND_PATH_CODES: readonly RpcErrorCode[] = [
  RPC_CODES.overloaded,
  RPC_CODES.commandTimeout,
  RPC_CODES.deadLettered,
];

/** A JSON-RPC 2.0 error object. */
export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: Json;
}

/** The body was not valid JSON (or not UTF-8). */
export function parseError(): RpcError {
  return { code: RPC_CODES.parseError, message: 'Parse error: the body is not valid UTF-8 JSON' };
}

/** The request (or the HTTP request carrying it) is not a valid JSON-RPC request; says why. */
export function invalidRequest(reason: string): RpcError {
  return { code: RPC_CODES.invalidRequest, message: `Invalid Request: ${reason}` };
}

/** No method of that name; `rpc.discover` lists them. */
export function methodNotFound(method: string): RpcError {
  return {
    code: RPC_CODES.methodNotFound,
    message: 'Method not found: call rpc.discover for the list of methods',
    data: { method: method.slice(0, 128) },
  };
}

/** An unexpected failure: the client gets only the correlation id to quote; log the error. */
export function internalError(correlationId?: string): RpcError {
  const error = { code: RPC_CODES.internalError, message: 'Internal error' };
  return correlationId === undefined ? error : { ...error, data: { correlationId } };
}

/** Who an error is answered to: a dead command's last error is shown to admins only. */
export interface Asker {
  readonly isAdmin: boolean;
}

const NOT_ADMIN: Asker = { isAdmin: false };

/**
 * Maps a thrown value to its JSON-RPC error, as `asker` may see it (default: not an admin). Typed
 * errors keep their message (written for clients; a recorded answer is raised again as its typed
 * error, so a repeat gets the same error); anything else becomes -32603 carrying only
 * `correlationId`.
 */
export function toRpcError(
  error: unknown,
  correlationId?: string,
  asker: Asker = NOT_ADMIN,
): RpcError {
  return mapKnown(error, asker) ?? internalError(correlationId);
}

function mapKnown(error: unknown, asker: Asker): RpcError | undefined {
  if (error instanceof ValidationError) {
    return rpcError(RPC_CODES.invalidParams, error, error.issues.map(issueJson));
  }
  if (error instanceof UnauthenticatedError) return rpcError(RPC_CODES.unauthenticated, error);
  if (error instanceof ForbiddenError) return rpcError(RPC_CODES.forbidden, error);
  if (error instanceof NotFoundError) {
    return rpcError(RPC_CODES.notFound, error, { kind: error.kind, id: error.id });
  }
  if (error instanceof ConcurrencyError) {
    const { expectedVersion, actualVersion } = error;
    return rpcError(RPC_CODES.concurrency, error, { expectedVersion, actualVersion });
  }
  if (error instanceof DomainRuleError) {
    return rpcError(RPC_CODES.domainRule, error, { rule: error.rule });
  }
  return mapCommandError(error, asker);
}

function mapCommandError(error: unknown, asker: Asker): RpcError | undefined {
  if (error instanceof OverloadedError) {
    return rpcError(RPC_CODES.overloaded, error, { retryAfterMs: error.retryAfterMs });
  }
  if (error instanceof CommandTimeoutError) {
    return rpcError(RPC_CODES.commandTimeout, error, { commandId: error.commandId });
  }
  if (error instanceof ReplicaShortfallError) {
    // the same code as a timeout: the outcome is not known to be durable, so the client asks again
    const { commandId, replicas, acked } = error;
    return rpcError(RPC_CODES.commandTimeout, error, { commandId, replicas, acked });
  }
  if (error instanceof DeadLetteredError) {
    const { commandId, attempts, lastError } = error;
    if (asker.isAdmin) {
      return rpcError(RPC_CODES.deadLettered, error, { commandId, attempts, lastError });
    }
    // the last error is internal text (stack lines, hosts): for admins and logs only
    return {
      code: RPC_CODES.deadLettered,
      message: `command dead-lettered after ${attempts} attempts; an admin can see why (npm run dead -- list)`,
      data: { commandId, attempts },
    };
  }
  if (error instanceof DeploymentRunningError) {
    const { deploymentId, status } = error;
    return rpcError(RPC_CODES.deploymentRunning, error, { deploymentId, status });
  }
  if (error instanceof ReadModelLagError) {
    const { projection, minPosition, position } = error;
    return rpcError(RPC_CODES.readModelLag, error, { projection, minPosition, position });
  }
  return undefined;
}

function rpcError(code: RpcErrorCode, error: Error, data?: Json): RpcError {
  return data === undefined
    ? { code, message: error.message }
    : { code, message: error.message, data };
}

function issueJson(issue: Issue): Json {
  return { path: issue.path, message: issue.message };
}

/** The issues of a zod error, each with its path joined by `.` (`direction.x`; `''` for the root). */
export function issuesFromZod(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((part) => String(part)).join('.'),
    message: issue.message,
  }));
}

/** One `ValidationError` listing every issue of a zod error, its message starting with `what`. */
export function validationErrorFromZod(what: string, error: z.ZodError): ValidationError {
  const issues = issuesFromZod(error);
  return ValidationError.fromIssues(what, issues) ?? new ValidationError(what);
}

/**
 * Untrusted input through its schema: the parsed data, or one `ValidationError` starting with
 * `what`. A value zod cannot even look at is refused the same way instead of escaping as an
 * internal error: zod's length checks run on any value with a `length` and compare it as a number,
 * which throws a TypeError for JSON such as `{"length":[{"toString":0}]}` (found by the fuzz suite).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  let parsed: z.ZodSafeParseResult<z.output<S>>;
  try {
    parsed = schema.safeParse(value);
  } catch (error) {
    throw unreadable(what, error);
  }
  if (!parsed.success) throw validationErrorFromZod(what, parsed.error);
  return parsed.data;
}

/** `parseInput` for schemas with asynchronous checks. */
export async function parseInputAsync<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): Promise<z.output<S>> {
  let parsed: z.ZodSafeParseResult<z.output<S>>;
  try {
    parsed = await schema.safeParseAsync(value);
  } catch (error) {
    throw unreadable(what, error);
  }
  if (!parsed.success) throw validationErrorFromZod(what, parsed.error);
  return parsed.data;
}

function unreadable(what: string, error: unknown): unknown {
  if (!(error instanceof TypeError)) return error;
  const message = 'a value could not be read: an object or list where text or a number belongs';
  return new ValidationError(`${what}: ${message}`, [{ path: '', message }]);
}
