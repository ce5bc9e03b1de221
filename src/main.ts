/**
 * The composition root: reads the configuration, chooses the adapters (the only place that does),
 * starts the HTTP server, and shuts everything down on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import { openBackend } from './backend.js';
import { type Config, loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createApp } from './http/app.js';
import { healthRoutes } from './http/health.js';
import { createLogger } from './log.js';

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
  const app = createApp({
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
    await backend.close();
    clearTimeout(force);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

await main();
