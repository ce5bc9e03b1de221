import { Redis } from 'ioredis';
import { type Logger, redactText } from '../log.js';

/** How often an unreachable Redis is reported while we keep retrying. */
const REPORT_EVERY_MS = 5000;

/**
 * Connects to `url` and keeps retrying forever (never falls back to anything else), logging one
 * clear line per outage and then every few seconds: what is unreachable, why, and what to check.
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const where = redactText(url);
  let lastReport = 0;
  let down = false;
  const redis = new Redis(url, {
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    maxRetriesPerRequest: 3,
    enableAutoPipelining: false,
  });
  redis.on('error', (error: Error & { code?: string }) => {
    const now = Date.now();
    if (down && now - lastReport < REPORT_EVERY_MS) return;
    down = true;
    lastReport = now;
    logger.error(
      `Redis at ${where} is unreachable (${error.code ?? error.message}); retrying every 2 s. Is redis-server running there, and is REDIS_URL right? streamcast never falls back to memory when REDIS_URL is set.`,
      { component: 'redis', cause: error.message },
    );
  });
  redis.on('ready', () => {
    logger.info(down ? `Redis at ${where} is reachable again` : `connected to Redis at ${where}`, {
      component: 'redis',
    });
    down = false;
  });
  return redis;
}
