/**
 * `POST /rpc`: JSON-RPC 2.0 over HTTP (SPEC.md §4), to the letter of the specification: single and
 * batch requests, notifications, `id: null` where the id cannot be read, and never `result` beside
 * `error`. Every answer is HTTP 200 except 204 (only notifications), 401, 413 and 415.
 */
import { randomUUID } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { z } from 'zod';
import {
  internalError,
  invalidRequest,
  methodNotFound,
  parseInputAsync,
  RPC_CODES,
  type RpcError,
  toRpcError,
} from '../error-codes.js';
import { ForbiddenError, UnauthenticatedError, ValidationError } from '../errors.js';
import { ByteBudget, type ResponseBudget } from '../events/byte-budget.js';
import { MAX_JSON_DEPTH, nestedTooDeep } from '../events/json.js';
import { callerOf, IDENTIFIER_PATTERN, makeCaller } from '../http/auth.js';
import type { Logger } from '../log.js';
import { type TraceContext, traceContextOf } from '../tracing/http.js';
import { readJsonBody } from './json-body.js';
import type { Caller, ParamsSchema, RpcContext, RpcMethod } from './method.js';

/** What `createRpcHandler` serves and its limits. */
export interface RpcHandlerOptions {
  /** Every method served; names must be unique. */
  readonly methods: readonly RpcMethod[];
  /** `RPC_MAX_BATCH`: most requests in one batch (default 100); more → one -32600. */
  readonly maxBatch?: number;
  /** `RPC_MAX_BODY_BYTES`: largest body (default 1 MiB); larger → HTTP 413 with -32600. */
  readonly maxBodyBytes?: number;
  /**
   * `RPC_MAX_RESPONSE_BYTES`: what the answers of one HTTP request may hold together (default
   * 16 MiB); reads stop their pages short at it (`ctx.budget`).
   */
  readonly maxResponseBytes?: number;
  readonly logger: Logger;
  /** Runs before the body is read and sets the caller (`authenticate`); without it, only public methods answer. */
  readonly authenticate?: RequestHandler;
  /** Where it listens (default `/rpc`). */
  readonly path?: string;
}

/** A request id (JSON-RPC 2.0 §4). */
export type RpcId = string | number | null;

/** A JSON-RPC response: a result or an error, never both. */
export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly result: unknown }
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly error: RpcError };

/** One request of a body, as read: a call (maybe a notification) or an invalid request. */
type Member =
  | {
      readonly kind: 'call';
      readonly id: RpcId;
      readonly notification: boolean;
      readonly method: string;
      readonly params: unknown;
    }
  | { readonly kind: 'invalid'; readonly id: RpcId; readonly reason: string };

/** What the calls of one HTTP request share. */
interface Exchange {
  readonly caller: Caller | undefined;
  readonly correlationId: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly trace: TraceContext;
}

interface Endpoint {
  readonly methods: ReadonlyMap<string, RpcMethod>;
  readonly maxBatch: number;
  readonly maxBodyBytes: number;
  readonly maxResponseBytes: number;
  readonly logger: Logger;
}

/** A member's response and its serialised text (what counted against the budget). */
interface Answered {
  readonly response: RpcResponse;
  readonly text: string;
}

/** Batch members handled at once. */
const BATCH_CONCURRENCY = 8;

const ANONYMOUS = makeCaller('anonymous', [], []);

/** The express router answering `POST /rpc`; other HTTP methods on that path get 405. */
export function createRpcHandler(options: RpcHandlerOptions): Router {
  const endpoint: Endpoint = {
    methods: methodTable(options.methods),
    maxBatch: options.maxBatch ?? 100,
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    maxResponseBytes: options.maxResponseBytes ?? 16 * 1_048_576,
    logger: options.logger.child({ component: 'rpc' }),
  };
  const path = options.path ?? '/rpc';
  const before = options.authenticate
    ? [assignCorrelationId, options.authenticate]
    : [assignCorrelationId];
  const router = Router();
  router.post(path, ...before, (req, res) => serve(req, res, endpoint));
  router.all(path, assignCorrelationId, methodNotAllowed);
  return router;
}

function methodTable(methods: readonly RpcMethod[]): ReadonlyMap<string, RpcMethod> {
  const table = new Map<string, RpcMethod>();
  for (const method of methods) {
    if (table.has(method.name)) throw new Error(`JSON-RPC method ${method.name} is defined twice`);
    table.set(method.name, method);
  }
  return table;
}

/** `X-Correlation-Id` from the client when it is a sane id, else a new uuid; echoed back. */
const assignCorrelationId: RequestHandler = (req, res, next) => {
  const given = req.get('X-Correlation-Id');
  const correlationId =
    given !== undefined && IDENTIFIER_PATTERN.test(given) ? given : randomUUID();
  res.locals.correlationId = correlationId;
  res.set('X-Correlation-Id', correlationId);
  next();
};

function methodNotAllowed(_req: Request, res: Response): void {
  res.set('Allow', 'POST');
  send(res, 405, JSON.stringify(errorResponse(null, invalidRequest('use POST'))));
}

// --- HTTP -------------------------------------------------------------------------------------

async function serve(req: Request, res: Response, endpoint: Endpoint): Promise<void> {
  const exchange = exchangeOf(res, endpoint.logger);
  try {
    const body = await readJsonBody(req, endpoint.maxBodyBytes);
    if (!body.ok) {
      send(res, body.status, JSON.stringify(errorResponse(null, body.error)));
      return;
    }
    await answer(res, body.value, exchange, endpoint);
  } catch (error) {
    if (res.destroyed) {
      exchange.logger.debug('client went away before its request was read');
      return;
    }
    exchange.logger.error('JSON-RPC request failed', { error: describe(error) });
    if (!res.headersSent)
      send(res, 200, JSON.stringify(errorResponse(null, internalError(exchange.correlationId))));
  }
}

function exchangeOf(res: Response, logger: Logger): Exchange {
  const correlationId = String(res.locals.correlationId);
  const aborted = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborted.abort();
  });
  return {
    caller: callerOf(res),
    correlationId,
    logger: logger.child({ correlationId }),
    signal: aborted.signal,
    trace: traceContextOf(res.locals),
  };
}

function send(res: Response, status: number, body: string | undefined): void {
  res.status(status);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(body);
}

// --- JSON-RPC ---------------------------------------------------------------------------------

async function answer(
  res: Response,
  payload: unknown,
  exchange: Exchange,
  endpoint: Endpoint,
): Promise<void> {
  const budget = new ByteBudget(endpoint.maxResponseBytes);
  if (!Array.isArray(payload)) {
    const answered = await handle(payload, exchange, endpoint, budget);
    respond(res, answered ? [answered] : [], false);
    return;
  }
  const refusal = batchRefusal(payload.length, endpoint.maxBatch);
  if (refusal) {
    const response = errorResponse(null, refusal);
    respond(res, [{ response, text: serialize(response, exchange) }], false);
    return;
  }
  const answers = await mapConcurrently(payload, BATCH_CONCURRENCY, (member) =>
    handle(member, exchange, endpoint, budget),
  );
  respond(
    res,
    answers.filter((a) => a !== undefined),
    true,
  );
}

/** `fn` over `items`, at most `limit` at a time, results in the items' order. */
async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function batchRefusal(size: number, maxBatch: number): RpcError | undefined {
  if (size === 0) return invalidRequest('a batch must hold at least one request');
  if (size > maxBatch)
    return invalidRequest(`a batch holds at most ${maxBatch} requests (RPC_MAX_BATCH); split it`);
  return undefined;
}

/** 204 when nothing is answered; 401 when every answer is -32001; else 200. */
function respond(res: Response, answers: readonly Answered[], batch: boolean): void {
  if (answers.length === 0) {
    send(res, 204, undefined);
    return;
  }
  const unauthenticated = answers.every(
    ({ response: r }) => 'error' in r && r.error.code === RPC_CODES.unauthenticated,
  );
  const parts = answers.map((a) => a.text);
  send(res, unauthenticated ? 401 : 200, batch ? `[${parts.join(',')}]` : parts[0]);
}

/** A result that cannot be serialised (a BigInt, a cycle) becomes -32603 for that member only. */
function serialize(response: RpcResponse, exchange: Exchange): string {
  try {
    return JSON.stringify(response);
  } catch (error) {
    exchange.logger.error('JSON-RPC result cannot be serialised', { error: describe(error) });
    return JSON.stringify(errorResponse(response.id, internalError(exchange.correlationId)));
  }
}

/**
 * Answers one member; undefined for notifications (even failed ones). Its answer counts against
 * the request's budget: what its reads took already, and the rest of its serialised size now.
 */
async function handle(
  raw: unknown,
  exchange: Exchange,
  endpoint: Endpoint,
  budget: ByteBudget,
): Promise<Answered | undefined> {
  const member = readMember(raw);
  const share = budget.member();
  const response =
    member.kind === 'invalid'
      ? errorResponse(member.id, invalidRequest(member.reason))
      : await call(member, { ...exchange, budget: share }, endpoint);
  if (member.kind === 'call' && member.notification) return undefined;
  const text = serialize(response, exchange);
  budget.charge(Math.max(text.length - share.taken, 0));
  return { response, text };
}

function readMember(raw: unknown): Member {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { kind: 'invalid', id: null, reason: 'a request must be an object' };
  }
  const request = raw as Record<string, unknown>;
  const hasId = Object.hasOwn(request, 'id');
  if (hasId && !isRpcId(request.id)) {
    return { kind: 'invalid', id: null, reason: 'id must be a string, a number or null' };
  }
  const id = hasId ? (request.id as RpcId) : null;
  const reason = requestProblem(request);
  if (reason) return { kind: 'invalid', id, reason };
  return {
    kind: 'call',
    id,
    notification: !hasId,
    method: request.method as string,
    params: request.params,
  };
}

function requestProblem(request: Record<string, unknown>): string | undefined {
  if (request.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if (typeof request.method !== 'string') return 'method must be a string';
  const params = request.params;
  if (Object.hasOwn(request, 'params') && (typeof params !== 'object' || params === null)) {
    return 'params must be an object of named params when given';
  }
  return undefined;
}

function isRpcId(value: unknown): value is RpcId {
  return (
    value === null ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

type CallMember = Extract<Member, { kind: 'call' }>;

async function call(
  member: CallMember,
  exchange: Exchange & { readonly budget: ResponseBudget },
  endpoint: Endpoint,
): Promise<RpcResponse> {
  const method = endpoint.methods.get(member.method);
  if (!method) return errorResponse(member.id, methodNotFound(member.method));
  const logger = exchange.logger.child({ method: method.name });
  try {
    const context: RpcContext = {
      user: authorize(method, exchange.caller),
      correlationId: exchange.correlationId,
      logger,
      signal: exchange.signal,
      budget: exchange.budget,
      trace: exchange.trace,
    };
    const params = await parseParams(method, member.params);
    const result: unknown = await method.handler(params, context);
    return { jsonrpc: '2.0', id: member.id, result: result ?? null };
  } catch (error) {
    return errorResponse(
      member.id,
      failure(error, logger, exchange.correlationId, exchange.caller ?? ANONYMOUS),
    );
  }
}

function authorize(method: RpcMethod, caller: Caller | undefined): Caller {
  if (method.auth === 'public') return caller ?? ANONYMOUS;
  if (!caller)
    throw new UnauthenticatedError(
      `${method.name} needs credentials: send Authorization: Bearer <token>`,
    );
  if (method.auth === 'admin' && !caller.isAdmin)
    throw new ForbiddenError(`${method.name} needs the admin role`);
  return caller;
}

async function parseParams(method: RpcMethod, params: unknown): Promise<z.output<ParamsSchema>> {
  if (Array.isArray(params)) {
    throw new ValidationError(
      'params must be an object of named params: by-position params (an array) are not supported',
    );
  }
  const deep = nestedTooDeep(params);
  if (deep !== undefined) {
    const message = `nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;
    throw new ValidationError(`invalid params: ${deep}: ${message}`, [{ path: deep, message }]);
  }
  return parseInputAsync(method.params, params ?? {}, 'invalid params');
}

/** Maps a thrown error; internal ones are logged here (their message never reaches the client). */
function failure(error: unknown, logger: Logger, correlationId: string, caller: Caller): RpcError {
  const mapped = toRpcError(error, correlationId, caller);
  if (mapped.code === RPC_CODES.internalError)
    logger.error('JSON-RPC method failed', { error: describe(error) });
  else {
    const reason = error instanceof Error ? error.message : mapped.message; // the whole of it
    logger.debug('JSON-RPC method refused', { code: mapped.code, reason });
  }
  return mapped;
}

function errorResponse(id: RpcId, error: RpcError): RpcResponse {
  return { jsonrpc: '2.0', id, error };
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : String(error);
}
