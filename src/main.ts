/**
 * The composition root: reads the configuration, chooses the adapters (the only place that does),
 * starts the HTTP server, and shuts everything down on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import { openBackend } from './backend.js';
import { commandHandlers } from './commands/handlers.js';
import { type Config, loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createApp } from './http/app.js';
import { authenticate } from './http/auth.js';
import { healthRoutes } from './http/health.js';
import { createLogger } from './log.js';
import { PROJECTIONS } from './projections/index.js';
import { Projector } from './projections/projector.js';
import { ReadModels } from './projections/read-models.js';
import { rpcMethods } from './rpc/methods/index.js';
import { createRpcHandler } from './rpc/router.js';

const VERSION = '0.1.0';

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
  let shuttingDown = false;
  const auth = authenticate({
    mode: config.AUTH_MODE,
    jwtSecret: config.JWT_SECRET,
    jwksUrl: config.JWT_JWKS_URL,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    logger,
    allowAnonymous: true,
  });
  const methods = rpcMethods(
    {
      serverId: config.SERVER_ID,
      storeName: backend.storeName,
      store: backend.store,
      bus: backend.bus,
      readModels: new ReadModels(
        backend.projections,
        PROJECTIONS.map((p) => p.name),
        config.COMMAND_TIMEOUT_MS,
      ),
      commandTimeoutMs: config.COMMAND_TIMEOUT_MS,
      trainerSpeed: config.TRAINER_SPEED,
      redisStatus: () => backend.redis?.status,
      backlog: () => backend.backlog(),
    },
    VERSION,
  );
  await backend.bus.serve(commandHandlers(backend.store, config));
  const projectors = PROJECTIONS.map(
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
  const app = createApp({
    rpc: createRpcHandler({
      methods,
      maxBatch: config.RPC_MAX_BATCH,
      maxBodyBytes: config.RPC_MAX_BODY_BYTES,
      logger: logger.child({ component: 'rpc' }),
      authenticate: auth,
    }),
    health: healthRoutes({ serverId: config.SERVER_ID, store: config.STORE }, [
      {
        name: 'shutdown',
        check: () => (shuttingDown ? { ok: false, reason: 'shutting down' } : { ok: true }),
      },
      ...backend.checks,
    ]),
  });
  const server: Server = app.listen(config.PORT, () => {
    logger.info(`streamcast listening on http://localhost:${config.PORT}`, {
      port: config.PORT,
      store: config.STORE,
    });
  });
  server.on('error', (error) => {
    logger.error(`cannot listen on port ${config.PORT}: ${error.message}; set PORT to a free port`);
    process.exit(1);
  });
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS).unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(projectors.map((p) => p.close())); // gives the leases up
    await backend.close();
    clearTimeout(force);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
