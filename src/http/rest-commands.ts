/**
 * The REST routes of seed 003's commands (SPEC.md §6): `POST /api/v1/connect/github`,
 * `POST /api/v1/connect/aws` and `POST /api/v1/deploy`, one per command definition with a `route`.
 * Thin adapters over the same typed send as the JSON-RPC methods, with the seed's bodies, its
 * success envelope `{code, message, data}` and its error body. The body is read by `readRestBody`.
 */
import { randomUUID } from 'node:crypto';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import type { CommandSender } from '../commands/sender.js';
import type { AnyCommandDefinition } from '../domain/command-definition.js';
import { parseInputAsync } from '../error-codes.js';
import { UnauthenticatedError } from '../errors.js';
import type { Json } from '../events/envelope.js';
import type { Logger } from '../log.js';
import { traceContextOf } from '../tracing/http.js';
import { callerOf } from './auth.js';
import { readRestBody } from './rest-body.js';
import { sendRestError } from './rest-errors.js';

/** What `commandRoutes` serves with. */
export interface CommandRoutesOptions {
  /** The commands; those with a `route` are served. */
  readonly commands: readonly AnyCommandDefinition[];
  readonly sender: CommandSender;
  /** `authenticate({…, unauthorizedBody: restUnauthorizedBody})`: sets the caller or answers 401. */
  readonly authenticate: RequestHandler;
  readonly logger: Logger;
  /** Largest body accepted (default 65536 bytes); larger → 413. */
  readonly maxBodyBytes?: number;
}

/** Seed 003's success envelope. */
export interface RestSuccess {
  readonly code: number;
  readonly message: string;
  readonly data: Json;
}

/** The router answering every command route. */
export function commandRoutes(options: CommandRoutesOptions): Router {
  const router = Router();
  for (const definition of options.commands) {
    if (definition.route)
      router.post(definition.route.path, options.authenticate, endpoint(definition, options));
  }
  return router;
}

/** One route: read and validate the JSON body, send the command as the caller, answer. */
function endpoint(definition: AnyCommandDefinition, options: CommandRoutesOptions): RequestHandler {
  const logger = options.logger.child({ component: 'rest' });
  const maxBodyBytes = options.maxBodyBytes ?? 65_536;
  return async (req: Request, res: Response) => {
    const correlationId = correlationIdOf(res);
    const log = logger.child({ correlationId, path: req.path });
    try {
      const actor = callerOf(res);
      if (!actor) throw new UnauthenticatedError('credentials required');
      const body = await readRestBody(req, maxBodyBytes);
      if ('status' in body) {
        log.debug('REST request refused', { status: body.status, reason: body.message });
        res.status(body.status).json(body);
        return;
      }
      const params = await parseInputAsync(definition.params, body.value, 'invalid request body');
      const trace = traceContextOf(res.locals);
      const answer = await options.sender.send(definition, params, { actor, correlationId, trace });
      const route = definition.route!;
      const success: RestSuccess = {
        code: 200,
        message: route.message,
        data: route.data ? route.data(answer) : answer,
      };
      res.status(success.code).json(success);
    } catch (error) {
      if (res.destroyed) return;
      sendRestError(res, error, log, correlationId, callerOf(res));
    }
  };
}

/** The request's correlation id (set by `correlationIds`), or a new one, echoed back. */
export function correlationIdOf(res: Response): string {
  const given = res.locals.correlationId;
  if (typeof given === 'string' && given) return given;
  const id = randomUUID();
  res.locals.correlationId = id;
  res.set('X-Correlation-Id', id);
  return id;
}
