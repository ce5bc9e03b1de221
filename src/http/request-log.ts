/**
 * Request logs: one JSON line per request once its response ends, with the request's correlation
 * id (echoed in `X-Correlation-Id`, stamped on the command it sends) and the caller, never a
 * credential: secrets in the query string (`access_token`, …) are redacted, headers not logged.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { type Logger, redactText } from '../log.js';
import { IDENTIFIER_PATTERN } from './auth.js';
import { routeOf } from './http-metrics.js';

/** Probes whose successful answers are not logged (a load balancer asks every few seconds). */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Middleware giving every request a correlation id: the client's `X-Correlation-Id` when it is a
 * sane id, else a new uuid; kept in `res.locals.correlationId` and echoed back.
 */
export const correlationIds: RequestHandler = (req, res, next) => {
  const given = req.get('X-Correlation-Id');
  const id = given !== undefined && IDENTIFIER_PATTERN.test(given) ? given : randomUUID();
  res.locals.correlationId = id;
  res.set('X-Correlation-Id', id);
  next();
};

/**
 * Middleware logging each request when its response ends or its client goes away: at `http`
 * level (`LOG_LEVEL=http` shows them), server errors at `warn` (a 503 from `/readyz` is an answer,
 * not an error). Run it after `correlationIds`.
 */
export function requestLog(logger: Logger): RequestHandler {
  const log = logger.child({ component: 'http' });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const finished = res.writableFinished;
      const probe = PROBES.has(routeOf(req));
      if (finished && res.statusCode < 400 && probe) return;
      const serverError = finished && res.statusCode >= 500 && !probe;
      // built only when it is written: at LOG_LEVEL=info (the default) most lines are not
      if (!(serverError ? log.isWarnEnabled() : log.isLevelEnabled('http'))) return;
      const caller = res.locals.caller as { userId?: string } | undefined;
      const line = {
        method: req.method,
        url: redactUrl(req.originalUrl),
        status: finished ? res.statusCode : 0,
        durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        bytes: Number(res.getHeader('Content-Length') ?? 0) || undefined,
        correlationId: res.locals.correlationId as string | undefined,
        userId: caller?.userId,
        ip: req.ip,
      };
      const message = finished ? 'request' : 'request aborted by the client';
      if (serverError) log.warn(message, line);
      else log.http(message, line);
    });
    next();
  };
}

/** Sensitive query parameters, whatever their case (SPEC.md §3: tokens never reach a log). */
const SECRET_PARAM =
  /^(access_token|token|sc_token|secret|password|api_key|apikey|key|secretaccesskey|sessiontoken|accesskeyid)$/i;

/** A URL with the values of sensitive query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
      return eq >= 0 && SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=[redacted]` : pair;
    })
    .join('&');
  return redactText(`${url.slice(0, at)}?${query}`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
