/**
 * `POST /api/v1/connect/github` and `POST /api/v1/connect/aws` of seed 003 (SPEC.md §6): thin
 * adapters over the same commands as `connect.github` / `connect.aws`, with the seed's bodies, its
 * success envelope `{code, message, data}` and its error body. The body is read here (no body
 * parser: express's quotes the text it fails on, which may hold a secret).
 */
import { randomUUID } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { z } from 'zod';
import { connectAwsParams, connectGitHubParams } from '../domain/connection.js';
import { validationErrorFromZod } from '../error-codes.js';
import { UnauthenticatedError, ValidationError } from '../errors.js';
import type { Json } from '../events/envelope.js';
import type { Logger } from '../log.js';
import { readJsonBody } from '../rpc/json-body.js';
import type { RpcContext } from '../rpc/method.js';
import { connectAws, connectGitHub } from '../rpc/methods/connections.js';
import type { RpcServices } from '../rpc/methods/services.js';
import { callerOf } from './auth.js';
import { restErrorBody, sendRestError } from './rest-errors.js';

/** What `connectionsRouter` serves with. */
export interface ConnectionsRouterOptions {
  /** The same services as the JSON-RPC methods (bus, command timeout, secret box). */
  readonly services: RpcServices;
  /** `authenticate({…, unauthorizedBody: restUnauthorizedBody})`: sets the caller or answers 401. */
  readonly authenticate: RequestHandler;
  readonly logger: Logger;
  /** Largest body accepted (default 65536 bytes); larger → 413. */
  readonly maxBodyBytes?: number;
}

/** Seed 003's success envelope. */
export interface RestSuccess<T extends Json> {
  readonly code: number;
  readonly message: string;
  readonly data: T;
}

/** The router answering the two connect endpoints under `/api/v1`. */
export function connectionsRouter(options: ConnectionsRouterOptions): Router {
  const logger = options.logger.child({ component: 'rest' });
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  const { services } = options;
  const router = Router();
  router.post(
    '/api/v1/connect/github',
    options.authenticate,
    endpoint(logger, maxBodyBytes, connectGitHubParams, async (params, ctx) => ({
      code: 200,
      message: 'GitHub connection succeeded.',
      data: await connectGitHub(services, params, ctx),
    })),
  );
  router.post(
    '/api/v1/connect/aws',
    options.authenticate,
    endpoint(logger, maxBodyBytes, connectAwsParams, async (params, ctx) => ({
      code: 200,
      message: 'AWS connection succeeded.',
      data: await connectAws(services, params, ctx),
    })),
  );
  return router;
}

/** One endpoint: read and validate the JSON body, run `action` as the caller, answer. */
function endpoint<S extends z.ZodType>(
  logger: Logger,
  maxBodyBytes: number,
  schema: S,
  action: (params: z.output<S>, ctx: RpcContext) => Promise<RestSuccess<Json>>,
): RequestHandler {
  return async (req: Request, res: Response) => {
    const correlationId = correlationIdOf(res);
    const log = logger.child({ correlationId, path: req.path });
    try {
      const caller = callerOf(res);
      if (!caller) throw new UnauthenticatedError('credentials required');
      const body = await readBody(req, maxBodyBytes);
      if ('status' in body) {
        log.debug('REST request refused', { status: body.status, reason: body.message });
        res.status(body.status).json(body);
        return;
      }
      const parsed = await schema.safeParseAsync(body.value);
      if (!parsed.success) throw validationErrorFromZod('invalid request body', parsed.error);
      const success = await action(parsed.data, { user: caller, correlationId, logger: log });
      res.status(success.code).json(success);
    } catch (error) {
      if (res.destroyed) return;
      sendRestError(res, error, log, correlationId);
    }
  };
}

/** The JSON object of the body, or the error body to answer (415, 413, 400). */
async function readBody(
  req: Request,
  maxBodyBytes: number,
): Promise<{ readonly value: object } | ReturnType<typeof restErrorBody>> {
  const read = await readJsonBody(req, maxBodyBytes);
  if (read.ok) {
    const { value } = read;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { value };
    throw new ValidationError('the request body must be a JSON object');
  }
  if (read.status === 415) {
    return restErrorBody(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  if (read.status === 413) {
    return restErrorBody(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`);
  }
  return restErrorBody(400, 'INVALID_JSON', 'the body is not valid UTF-8 JSON');
}

function correlationIdOf(res: Response): string {
  const given = res.locals.correlationId as string | undefined;
  if (given) return given;
  const id = randomUUID();
  res.locals.correlationId = id;
  res.set('X-Correlation-Id', id);
  return id;
}
