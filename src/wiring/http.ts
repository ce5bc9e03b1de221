/**
 * Wiring of the HTTP surface: `POST /rpc` (the catalogue's commands and the queries), seed 003's
 * REST routes, the event streams, health, `/metrics`, CORS and request logs on express, and
 * `GET /events` on plain node http ahead of express (writes to express's responses cost ~5× in
 * the fan-out benchmark). Listens on PORT.
 */
import { createServer, type Server } from 'node:http';
import type { Config } from '../config.js';
import type { SecretBox } from '../connections/secret-box.js';
import type { AnyCommandDefinition } from '../domain/command-definition.js';
import { keysFor } from '../events/keys.js';
import type { RedisClient } from '../events/redis-connection.js';
import { createApp } from '../http/app.js';
import { authenticate, callerIdentifier } from '../http/auth.js';
import { bundleConsole } from '../http/console-bundle.js';
import { consoleRoutes } from '../http/console-routes.js';
import { corsWarnings } from '../http/cors.js';
import { HttpDrain, keepAliveBehindProxy } from '../http/drain.js';
import { healthRoutes, type ReadinessCheck } from '../http/health.js';
import { httpMetrics } from '../http/http-metrics.js';
import { metricsRoute } from '../http/metrics-route.js';
import { plainEvents } from '../http/plain-events.js';
import { correlationIds, requestLog } from '../http/request-log.js';
import { commandRoutes } from '../http/rest-commands.js';
import { deployRouter } from '../http/rest-deploy.js';
import { restUnauthorizedBody } from '../http/rest-errors.js';
import { sseRoutes } from '../http/sse-routes.js';
import { TokenLifetime } from '../http/token-lifetime.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { InstanceRegistry } from '../ops/instance-registry.js';
import type { ReadModels } from '../projections/read-models.js';
import { type RpcServices, rpcMethods } from '../rpc/methods/index.js';
import { senderOf } from '../rpc/methods/services.js';
import { createRpcHandler } from '../rpc/router.js';
import { traceRequests } from '../tracing/http.js';
import { VERSION } from '../version.js';
import type { Backend } from './backend.js';
import type { RealtimeParts } from './realtime.js';

/** What the HTTP surface serves. */
export interface HttpParts {
  /** The commands served (the catalogue). */
  readonly commands: readonly AnyCommandDefinition[];
  readonly config: Config;
  readonly backend: Backend;
  /** Seals connection secrets (`secretBoxFor`). */
  readonly secretBox: SecretBox;
  readonly realtime: RealtimeParts;
  readonly readModels: ReadModels;
  /** With ARCHIVE_URL: how far each partition is archived (`system.status`). */
  readonly archiveStatus?: RpcServices['archiveStatus'];
  readonly notifierStatus?: RpcServices['notifierStatus'];
  readonly readiness: readonly ReadinessCheck[];
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** Every live instance of the registry, for `system.instances`. */
function liveInstancesOf(redis: RedisClient, prefix: string): RpcServices['instances'] {
  const keys = keysFor(prefix);
  return () => InstanceRegistry.liveEntries(redis, keys);
}

/** The listening server, and the drain that stops it accepting on shutdown. */
export interface HttpServer {
  readonly server: Server;
  readonly drain: HttpDrain;
}

export function serveHttp(parts: HttpParts): HttpServer {
  const { config, backend, realtime, logger, secretBox } = parts;
  const services: RpcServices = {
    serverId: config.SERVER_ID,
    storeName: backend.storeName,
    store: backend.store,
    bus: backend.bus,
    readModels: parts.readModels,
    commandTimeoutMs: config.COMMAND_TIMEOUT_MS,
    redisStatus: () => backend.redis?.status,
    backlog: () => backend.backlog(),
    ...(backend.redis ? { instances: liveInstancesOf(backend.redis, config.KEY_PREFIX) } : {}),
    realtime: realtime.realtime,
    secretBox,
    catalogue: parts.commands,
    ...(parts.archiveStatus ? { archiveStatus: parts.archiveStatus } : {}),
    ...(parts.notifierStatus ? { notifierStatus: parts.notifierStatus } : {}),
  };
  const authOptions = {
    mode: config.AUTH_MODE,
    jwtSecret: config.JWT_SECRET,
    jwtSecretsPrevious: config.JWT_SECRET_PREVIOUS,
    jwksUrl: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    // one for every authenticator: a token without iat has one first sight per instance
    lifetime: new TokenLifetime({
      requireExp: config.JWT_REQUIRE_EXP,
      maxLifetimeS: config.JWT_MAX_LIFETIME_S,
    }),
    logger,
  };
  const cors = { origins: config.CORS_ORIGINS };
  for (const warning of corsWarnings(cors)) logger.warn(warning, { component: 'http' });
  const restAuth = authenticate({ ...authOptions, unauthorizedBody: restUnauthorizedBody });
  const drain = new HttpDrain();
  const app = createApp({
    before: [
      drain.middleware,
      correlationIds,
      traceRequests,
      requestLog(logger),
      httpMetrics(parts.metrics),
    ],
    cors,
    logger: logger.child({ component: 'http' }),
    rpc: createRpcHandler({
      methods: rpcMethods(services, VERSION),
      maxBatch: config.RPC_MAX_BATCH,
      maxBodyBytes: config.RPC_MAX_BODY_BYTES,
      maxResponseBytes: config.RPC_MAX_RESPONSE_BYTES,
      logger: logger.child({ component: 'rpc' }),
      authenticate: authenticate({ ...authOptions, allowAnonymous: true }),
    }),
    health: healthRoutes({ serverId: config.SERVER_ID, store: config.STORE }, parts.readiness),
    metrics: metricsRoute(parts.metrics),
    rest: [
      commandRoutes({
        commands: parts.commands,
        sender: senderOf(services),
        authenticate: restAuth,
        logger,
        maxBodyBytes: config.RPC_MAX_BODY_BYTES,
      }),
      deployRouter({
        services,
        feed: realtime.feed,
        authenticate: restAuth,
        retryMs: config.SSE_RETRY_MS,
        logger: logger.child({ component: 'rest' }),
      }),
    ],
    console: consoleRoutes({
      authMode: config.AUTH_MODE,
      bundle: bundleConsole(),
      identify: callerIdentifier(authOptions),
      logger,
    }),
    streams: sseRoutes({
      realtime: realtime.realtime,
      feed: realtime.feed,
      authenticate: restAuth,
      retryMs: config.SSE_RETRY_MS,
      logger: logger.child({ component: 'sse' }),
    }),
  });
  const events = plainEvents({
    realtime: realtime.realtime,
    identify: callerIdentifier(authOptions),
    cors,
    retryMs: config.SSE_RETRY_MS,
    logger: logger.child({ component: 'sse' }),
  });
  const server = createServer((req, res) => {
    if (!events(req, res)) app(req, res);
  });
  server.listen(config.PORT, () => {
    logger.info(`streamcast listening on http://localhost:${config.PORT}`, {
      port: config.PORT,
      store: config.STORE,
    });
  });
  server.on('error', (error) => {
    logger.error(`cannot listen on port ${config.PORT}: ${error.message}; set PORT to a free port`);
    process.exit(1);
  });
  keepAliveBehindProxy(server);
  return { server, drain };
}
