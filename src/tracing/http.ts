/**
 * The server span of an HTTP request, and the trace context handed on to what it sends: every
 * route reads `res.locals.traceparent` (and `tracestate`) — the request's span with tracing on,
 * else the request's own headers, so its events still carry them (SPEC.md §4).
 * Event streams and probes get no span: they are long or frequent and cause no command.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { ATTR } from './hops.js';
import { startSpan, traceparentOf, tracestateOf, tracingOn } from './spans.js';
import { cleanTraceparent, cleanTracestate } from './traceparent.js';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The trace context a request hands on to the commands it sends. */
export interface TraceContext {
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/** The trace context `traceRequests` left in `res.locals` (empty without one). */
export function traceContextOf(locals: Record<string, unknown>): TraceContext {
  const { traceparent, tracestate } = locals;
  return {
    ...(typeof traceparent === 'string' ? { traceparent } : {}),
    ...(typeof tracestate === 'string' ? { tracestate } : {}),
  };
}

/** Express middleware: run it after `correlationIds`. */
export const traceRequests: RequestHandler = (req, res, next) => {
  const traceparent = cleanTraceparent(req.headers.traceparent);
  const tracestate = traceparent && cleanTracestate(req.headers.tracestate);
  const quiet = PROBES.has(req.path) || (req.headers.accept ?? '').includes('text/event-stream');
  if (!tracingOn() || quiet) {
    if (traceparent) res.locals.traceparent = traceparent;
    if (tracestate) res.locals.tracestate = tracestate;
    next();
    return;
  }
  const route = req.path === '/rpc' ? ' /rpc' : '';
  const span = startSpan(`${req.method}${route}`, {
    kind: SpanKind.SERVER,
    parent: traceparent,
    parentState: tracestate,
    attributes: {
      'http.request.method': req.method,
      'url.path': req.path,
      ...(route ? { 'http.route': '/rpc' } : {}),
      [ATTR.correlationId]: String(res.locals.correlationId ?? ''),
    },
  });
  res.locals.traceparent = traceparentOf(span);
  const state = tracestateOf(span);
  if (state) res.locals.tracestate = state;
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  next();
};
