/**
 * The composition root: reads the configuration, chooses the adapters (the only place that does),
 * starts the HTTP server, and shuts everything down on SIGTERM/SIGINT.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { type Config, loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { EventStore } from './events/event-store.js';
import { keysFor } from './events/keys.js';
import { MemoryEventStore } from './events/memory-event-store.js';
import type { StoreSettings } from './events/prepare-append.js';
import { connectRedis } from './events/redis-connection.js';
import { RedisEventStore } from './events/redis-event-store.js';
import { createApp } from './http/app.js';
import { healthRoutes, type ReadinessCheck } from './http/health.js';
import { createLogger, type Logger } from './log.js';

interface Backend {
  readonly store: EventStore;
  readonly checks: readonly ReadinessCheck[];
  close(): Promise<void>;
}

function storeSettings(config: Config): StoreSettings {
  return {
    serverId: config.SERVER_ID,
    maxEventBytes: config.MAX_EVENT_BYTES,
    maxNotificationBytes: config.MAX_NOTIFICATION_BYTES,
    dedupTtlS: config.COMMAND_DEDUP_TTL_S,
    notifyRetention: config.NOTIFY_RETENTION,
  };
}

function openBackend(config: Config, logger: Logger): Backend {
  if (config.STORE === 'memory') {
    logger.warn(
      'no REDIS_URL: running on the embedded in-memory store, one instance only, nothing survives a restart; set REDIS_URL to use Redis',
      { component: 'store', store: 'memory' },
    );
    const store = new MemoryEventStore(storeSettings(config));
    return { store, checks: [], close: () => store.close() };
  }
  if (config.STORE === 'eventstoredb') {
    throw new ConfigError([
      'STORE: eventstoredb is not available yet; use STORE=redis or leave STORE unset',
    ]);
  }
  const redis: Redis = connectRedis(config.REDIS_URL!, logger);
  const store = new RedisEventStore(
    redis,
    keysFor(config.KEY_PREFIX),
    storeSettings(config),
    logger.child({ component: 'store' }),
  );
  logger.info('using the Redis event store', {
    component: 'store',
    store: 'redis',
    keyPrefix: config.KEY_PREFIX,
  });
  const redisReady: ReadinessCheck = {
    name: 'redis',
    check: () =>
      redis.status === 'ready' ? { ok: true } : { ok: false, reason: `connection ${redis.status}` },
  };
  return {
    store,
    checks: [redisReady],
    close: async () => {
      await store.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
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
