/**
 * What answers when no route did: a JSON 404 for unknown paths, and the last error handler, which
 * answers the one REST error body (never express's HTML page) and logs only the status and the
 * error's type — never its message or the request body, which may hold a secret.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../log.js';
import { restErrorBody } from './rest-errors.js';

/** 404 with the REST error body for every path no route serves. */
export const notFoundRoute: RequestHandler = (_req, res) => {
  res
    .status(404)
    .json(restErrorBody(404, 'NOT_FOUND', 'no such route: see the README for the API'));
};

/** The 4xx an error carries (`status` or `statusCode`, as express and its parsers set), else 500. */
function statusOf(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const given = typeof status === 'number' ? status : statusCode;
  return typeof given === 'number' && given >= 400 && given < 500 ? given : 500;
}

/** `type` of a body-parser error (`entity.parse.failed`), else the error's class name. */
function typeOf(error: unknown): string {
  const { type } = (error ?? {}) as { type?: unknown };
  if (typeof type === 'string') return type;
  return error instanceof Error ? error.name : typeof error;
}

/** The error handler of last resort; registered after every route. */
export function lastErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const status = statusOf(error);
    const correlationId =
      typeof res.locals.correlationId === 'string' ? res.locals.correlationId : undefined;
    logger.warn('request failed outside its route', { status, type: typeOf(error), correlationId });
    if (res.headersSent) {
      res.end();
      return;
    }
    const body =
      status === 500
        ? restErrorBody(
            500,
            'UNEXPECTED_ERROR',
            'Unexpected error',
            correlationId ? { correlationId } : {},
          )
        : restErrorBody(status, 'BAD_REQUEST', 'the request could not be read');
    res.status(status).json(body);
  };
}
