import express, { type Express, type RequestHandler, type Router } from 'express';
import { type Logger, silentLogger } from '../log.js';
import { CORS_PATHS, type CorsOptions, cors } from './cors.js';
import { lastErrorHandler, notFoundRoute } from './fallback-routes.js';

/** What the HTTP surface is assembled from; each part is an express router or middleware. */
export interface AppParts {
  readonly health: Router;
  /** `POST /rpc` (reads its own body: no body parser may run before it). */
  readonly rpc: Router;
  /** The event streams (`/events`, `/streams/…/events`) and `POST /api/v1/sse/subscribe`. */
  readonly streams?: Router;
  /** Seed 003's REST endpoints under `/api/v1` (connections, deployments). */
  readonly rest?: readonly Router[];
  /** The console at `/` and its sign-in session (`consoleRoutes`). */
  readonly console?: Router;
  /** `GET /metrics`, when the instance keeps metrics. */
  readonly metrics?: Router;
  /** Run first on every request, in order (correlation ids, request log, HTTP metrics, drain). */
  readonly before?: readonly RequestHandler[];
  /** CORS for `/rpc` and the event streams; without it, same origin only. */
  readonly cors?: CorsOptions;
  /** Where the last error handler logs (status and error type only). */
  readonly logger?: Logger;
}

/** Assembles the express app. Compression is never applied (event streams must not be buffered). */
export function createApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  for (const handler of parts.before ?? []) app.use(handler);
  if (parts.cors) app.use(CORS_PATHS, cors(parts.cors));
  app.use(parts.rpc); // the busiest route first: its requests skip the other routers' matching
  app.use(parts.health);
  if (parts.metrics) app.use(parts.metrics);
  if (parts.streams) app.use(parts.streams);
  for (const router of parts.rest ?? []) app.use(router);
  if (parts.console) app.use(parts.console);
  app.use(notFoundRoute);
  app.use(lastErrorHandler(parts.logger ?? silentLogger));
  return app;
}
