/**
 * HTTP metrics: requests by route, method and status, and their duration. Routes are a fixed set,
 * so a scanner probing random paths cannot blow up the number of series.
 */
import type { Request, RequestHandler } from 'express';
import type { Metrics } from '../metrics.js';

/** Duration buckets in seconds (a JSON-RPC call waits for its command; event streams run long). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const ROUTES = ['/rpc', '/events', '/streams', '/api', '/healthz', '/readyz', '/metrics'];

/** The route label of a request: one of the served prefixes, or `other`. */
export function routeOf(req: Pick<Request, 'path'>): string {
  return ROUTES.find((r) => req.path === r || req.path.startsWith(`${r}/`)) ?? 'other';
}

/** Middleware counting and timing every request when its response ends (or its client leaves). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  const requests = metrics.counter({
    name: 'streamcast_http_requests_total',
    help: 'HTTP requests by route, method and status (0: the client went away before the answer)',
    labelNames: ['route', 'method', 'status'] as const,
  });
  const duration = metrics.histogram({
    name: 'streamcast_http_request_duration_seconds',
    help: 'Time from request to the end of its response, by route',
    labelNames: ['route'] as const,
    buckets: DURATION_BUCKETS,
  });
  return (req, res, next) => {
    const route = routeOf(req);
    const stop = duration.startTimer({ route });
    res.once('close', () => {
      stop();
      const status = res.writableFinished ? String(res.statusCode) : '0';
      requests.inc({ route, method: req.method, status });
    });
    next();
  };
}
