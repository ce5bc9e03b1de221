/**
 * The HTTP surface around the routers: app assembly, authentication, CORS, health and readiness,
 * `/metrics`, request logs with correlation ids, HTTP metrics, draining on shutdown, and seed 003's
 * REST API (the command routes and deployment reads) with its one error body, and the console at
 * `/` with its sign-in session.
 */
export { type AppParts, createApp } from './app.js';
export {
  type AuthOptions,
  authenticate,
  callerOf,
  IDENTIFIER_PATTERN,
  makeCaller,
  rpcUnauthorizedBody,
} from './auth.js';
export { bundleConsole, type ConsoleBundle } from './console-bundle.js';
export { type ConsoleRoutesOptions, consoleRoutes } from './console-routes.js';
export {
  CORS_PATHS,
  type CorsOptions,
  cors,
  corsHeaders,
  corsWarnings,
  type OriginAccess,
  originAccess,
} from './cors.js';
export { HttpDrain, keepAliveBehindProxy } from './drain.js';
export { healthRoutes, type ReadinessCheck } from './health.js';
export { httpMetrics, routeOf } from './http-metrics.js';
export { metricsRoute } from './metrics-route.js';
export { correlationIds, redactUrl, requestLog } from './request-log.js';
export {
  type CommandRoutesOptions,
  commandRoutes,
  type RestSuccess,
} from './rest-commands.js';
export {
  type RestErrorBody,
  restErrorBody,
  restErrorOf,
  restUnauthorizedBody,
  sendRestError,
} from './rest-errors.js';
export { TokenLifetime, type TokenLifetimeOptions } from './token-lifetime.js';
