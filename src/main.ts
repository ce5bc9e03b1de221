/**
 * The composition root: reads the configuration, chooses the adapters (the only place that does),
 * starts the HTTP server, passes the start-up checks before taking any work, and shuts everything
 * down on SIGTERM/SIGINT in DESIGN.md §7's order.
 */
import { createServer, type Server } from 'node:http';
import { openBackend } from './backend.js';
import { connectionHandlers } from './commands/connection-handlers.js';
import { commandHandlers } from './commands/handlers.js';
import { type Config, loadConfig } from './config.js';
import { SecretBox } from './connections/secret-box.js';
import { deploymentsFor } from './deployments/index.js';
import { ConfigError } from './errors.js';
import { keysFor } from './events/keys.js';
import { LogWatch } from './events/log-watch.js';
import { createApp } from './http/app.js';
import { authenticate, callerIdentifier } from './http/auth.js';
import { corsWarnings } from './http/cors.js';
import { HttpDrain, keepAliveBehindProxy } from './http/drain.js';
import { healthRoutes, type ReadinessCheck } from './http/health.js';
import { httpMetrics } from './http/http-metrics.js';
import { metricsRoute } from './http/metrics-route.js';
import { plainEvents } from './http/plain-events.js';
import { correlationIds, requestLog } from './http/request-log.js';
import { connectionsRouter } from './http/rest-connections.js';
import { deployRouter } from './http/rest-deploy.js';
import { restUnauthorizedBody } from './http/rest-errors.js';
import { sseRoutes } from './http/sse-routes.js';
import { TokenLifetime } from './http/token-lifetime.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import {
  GracefulShutdown,
  InstanceRegistry,
  meterBacklog,
  meteredHandlers,
  meterInstance,
  meterWorker,
  passStartupChecks,
  readinessDrainMs,
  StartupRefusedError,
  sleepUntil,
} from './ops/index.js';
import { projectionsFor } from './projections/index.js';
import { registerProjectionMetrics } from './projections/metrics.js';
import { Projector } from './projections/projector.js';
import { ReadModels } from './projections/read-models.js';
import { type RpcServices, rpcMethods } from './rpc/methods/index.js';
import { createRpcHandler } from './rpc/router.js';
import { createRealtime } from './sse/index.js';

const VERSION = '0.1.0';

/** What runs once the start-up checks pass; shutdown stops whatever of it was started. */
interface Work {
  /** The Redis worker takes a grace time; the memory one ignores it. */
  worker?: { close(graceMs?: number): Promise<void> };
  /** The deployment job consumer (released jobs resume on another instance). */
  jobs?: { close(graceMs?: number): Promise<void> };
  projectors: Projector[];
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`streamcast cannot start: ${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger({ level: config.LOG_LEVEL, serverId: config.SERVER_ID });
  const backend = openBackend(config, logger);
  const metrics = new Metrics({ serverId: config.SERVER_ID });
  const shutdown = new GracefulShutdown({ graceMs: config.SHUTDOWN_GRACE_MS, logger });
  const work: Work = { projectors: [] };
  const sse = createRealtime(config, backend, logger);
  const registry = backend.redis
    ? new InstanceRegistry(backend.redis, keysFor(config.KEY_PREFIX), {
        serverId: config.SERVER_ID,
        ttlMs: config.SERVER_TTL_MS,
        port: config.PORT,
        logger: logger.child({ component: 'registry' }),
        onLost: () => void shutdown.begin('SERVER_ID taken over', 1),
      })
    : undefined;
  const logWatch = new LogWatch(backend.store, logger.child({ component: 'store' }));
  metrics.gauge({
    name: 'streamcast_event_log_losses',
    help: 'Times the global log was found behind its high-water mark (Redis lost data) since start',
    collect() {
      this.set(logWatch.losses);
    },
  });
  const readiness: ReadinessCheck[] = [
    {
      name: 'shutdown',
      check: () => (shutdown.started ? { ok: false, reason: 'shutting down' } : { ok: true }),
    },
    ...backend.checks,
    {
      name: 'commands',
      check: () =>
        work.worker ? { ok: true } : { ok: false, reason: 'start-up checks have not passed yet' },
    },
    ...(registry ? [registry.readiness] : []),
    logWatch.readiness,
  ];
  meterInstance(metrics, { version: VERSION, store: config.STORE }, readiness);
  meterBacklog(
    () => backend.backlog(),
    () => !backend.redis || backend.redis.status === 'ready',
    metrics,
  );
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
  const auth = authenticate({ ...authOptions, allowAnonymous: true });
  const readModels = new ReadModels(
    backend.projections,
    projectionsFor(config).map((p) => p.name),
    config.COMMAND_TIMEOUT_MS,
  );
  const secretBox = new SecretBox(config.SECRET_KEY);
  logger.info('connection secrets are sealed with AES-256-GCM under SECRET_KEY', {
    component: 'connections',
    keyId: secretBox.keyId,
  });
  const services: RpcServices = {
    serverId: config.SERVER_ID,
    storeName: backend.storeName,
    store: backend.store,
    bus: backend.bus,
    readModels,
    commandTimeoutMs: config.COMMAND_TIMEOUT_MS,
    trainerSpeed: config.TRAINER_SPEED,
    redisStatus: () => backend.redis?.status,
    backlog: () => backend.backlog(),
    realtime: sse.realtime,
    secretBox,
  };
  const methods = rpcMethods(services, VERSION);
  const corsOptions = { origins: config.CORS_ORIGINS };
  for (const warning of corsWarnings(corsOptions)) logger.warn(warning, { component: 'http' });
  const drain = new HttpDrain();
  const app = createApp({
    before: [drain.middleware, correlationIds, requestLog(logger), httpMetrics(metrics)],
    cors: corsOptions,
    rpc: createRpcHandler({
      methods,
      maxBatch: config.RPC_MAX_BATCH,
      maxBodyBytes: config.RPC_MAX_BODY_BYTES,
      logger: logger.child({ component: 'rpc' }),
      authenticate: auth,
    }),
    health: healthRoutes({ serverId: config.SERVER_ID, store: config.STORE }, readiness),
    metrics: metricsRoute(metrics),
    rest: [
      connectionsRouter({
        services,
        authenticate: authenticate({ ...authOptions, unauthorizedBody: restUnauthorizedBody }),
        logger,
        maxBodyBytes: config.RPC_MAX_BODY_BYTES,
      }),
      deployRouter({
        services,
        feed: sse.feed,
        authenticate: authenticate({ ...authOptions, unauthorizedBody: restUnauthorizedBody }),
        logger: logger.child({ component: 'rest' }),
      }),
    ],
    streams: sseRoutes({
      realtime: sse.realtime,
      feed: sse.feed,
      authenticate: authenticate({
        ...authOptions,
        unauthorizedBody: (error) => ({ error: { code: -32001, message: error.message } }),
      }),
      logger: logger.child({ component: 'sse' }),
    }),
  });
  // GET /events on plain http: writes to express's responses cost ~5× (fan-out benchmark)
  const events = plainEvents({
    realtime: sse.realtime,
    identify: callerIdentifier(authOptions),
    cors: corsOptions,
    logger: logger.child({ component: 'sse' }),
  });
  const server: Server = createServer((req, res) => {
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
  const drainMs = readinessDrainMs(config.SHUTDOWN_GRACE_MS);
  shutdown
    .add({
      name: `answer /readyz with 503 for ${drainMs} ms so load balancers move away`,
      run: (deadline) => sleepUntil(drainMs, deadline),
    })
    .add({
      // before the HTTP drain, which would otherwise wait for these endless responses
      name: 'close SSE sessions with a jittered retry so clients move to other instances',
      run: async () => {
        await sse.realtime.close();
        await sse.feed.close();
      },
    })
    .add({
      name: 'stop accepting connections; answer the requests in flight',
      run: (deadline) => drain.close(server, deadline),
    })
    .add({
      name: 'stop reading commands and deployment jobs; finish or release those in flight',
      run: async (deadline) => {
        const graceMs = Math.max(deadline - Date.now(), 0);
        await Promise.all([work.worker?.close(graceMs), work.jobs?.close(0)]);
      },
    })
    .add({
      name: 'give up projection leases',
      run: async () => {
        await Promise.all(work.projectors.map((p) => p.close()));
      },
    })
    .add({ name: 'leave the instance registry', run: async () => registry?.leave() })
    .add({ name: 'close the store and Redis', run: () => backend.close() });
  const starting = new AbortController();
  const stop = (signal: string) => {
    starting.abort(new Error(`${signal} during start-up`));
    void shutdown.begin(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (registry && backend.redis) {
    const redis = backend.redis;
    const checks = passStartupChecks({
      redis,
      registry,
      serverId: config.SERVER_ID,
      logger: logger.child({ component: 'startup' }),
      signal: starting.signal,
    });
    if (!(await passedOrExit(checks, starting.signal, logger))) return;
  }
  if (shutdown.started) return;
  await sse.realtime.start();
  logWatch.start();
  const deployments = deploymentsFor(sse.store, config, logger.child({ component: 'deployments' }));
  const worker = await backend.bus.serve(
    meteredHandlers(
      {
        ...commandHandlers(sse.store, config),
        ...connectionHandlers(sse.store, backend.secrets),
        ...deployments.handlers,
      },
      metrics,
    ),
  );
  work.jobs = await backend.serveJobs({
    run: (id) => deployments.processManager.run(id),
    abandon: (id, reason) => deployments.processManager.abandon(id, reason),
  });
  meterWorker(worker, metrics);
  work.worker = worker;
  work.projectors = projectionsFor(config).map(
    (projection) =>
      new Projector({
        events: backend.store,
        store: backend.projections,
        projection,
        owner: config.SERVER_ID,
        leaseTtlMs: config.LEASE_TTL_MS,
        logger: logger.child({ component: 'projections' }),
      }),
  );
  registerProjectionMetrics(metrics, readModels, work.projectors);
}

/**
 * True once the start-up checks passed; false when a shutdown interrupted them. A refusal is
 * logged one line per problem and ends the process with exit code 1.
 */
async function passedOrExit(
  checks: Promise<void>,
  signal: AbortSignal,
  logger: Logger,
): Promise<boolean> {
  try {
    await checks;
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    if (!(error instanceof StartupRefusedError)) throw error;
    for (const problem of error.problems) {
      logger.error(`streamcast cannot start: ${problem}`, { component: 'startup' });
    }
    process.exit(1);
  }
}

await main();
