/**
 * Mocha global fixture: one private `redis-server` on a free port for the whole run, its URL in
 * `TEST_REDIS_URL` (unless that is given already: then tests use it, with unique key prefixes, and
 * never flush it). Without `redis-server`, Redis tests fail under `CI=true` and skip locally.
 */
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../../scripts/lib/redis-server.js';
import { stopSharedPostgres } from './postgres.js';
import { stopSharedRedisCluster } from './topologies.js';

let server: RedisServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.TEST_REDIS_URL) return;
  if (!redisServerAvailable()) {
    const reason = 'redis-server is not on PATH (install it: apt-get install redis-server)';
    if (process.env.CI === 'true') throw new Error(`Redis tests cannot run: ${reason}`);
    process.env.STREAMCAST_TEST_REDIS_MISSING = reason;
    process.stdout.write(`\n  ! Redis-backed tests will be skipped: ${reason}\n\n`);
    return;
  }
  server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
  process.stdout.write(`  (test redis-server pid ${server.pid} on ${server.url})\n`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopSharedRedisCluster();
  await stopSharedPostgres();
  await server?.stop();
}
