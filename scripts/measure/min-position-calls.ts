/**
 * Counts the Redis commands that waiting for a `minPosition` costs: 100 queries wait at once for a
 * position the projection never reaches (read models as `trainer.get` uses them, on a private
 * redis-server), and INFO commandstats tells how many commands they sent meanwhile.
 * `node --import tsx scripts/measure/min-position-calls.ts` (WAITS, WAIT_MS to change the run).
 */
import { Redis } from 'ioredis';
import { keysFor, ReadModels, RedisProjectionStore, trainerPositions } from '../../src/index.js';
import { startRedisServer } from '../lib/redis-server.js';

const WAITS = Number(process.env.WAITS ?? 100);
const WAIT_MS = Number(process.env.WAIT_MS ?? 3000);

/** Calls per command since the last CONFIG RESETSTAT. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const match of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+)/g))
    calls.set(match[1]!, Number(match[2]));
  return calls;
}

const server = await startRedisServer();
const redis = new Redis(server.url);
const store = new RedisProjectionStore(redis, keysFor('measure'));
try {
  const readModels = new ReadModels({
    stores: [store],
    projections: [trainerPositions],
    waitMs: WAIT_MS,
  });
  await redis.config('RESETSTAT');
  const started = Date.now();
  const waits = await Promise.allSettled(
    Array.from({ length: WAITS }, () => readModels.reach('trainer-positions', '9999999999999-0')),
  );
  const seconds = (Date.now() - started) / 1000;
  const calls = await commandCalls(redis);
  calls.delete('info');
  calls.delete('config|resetstat');
  const total = [...calls.values()].reduce((a, b) => a + b, 0);
  const refused = waits.filter((w) => w.status === 'rejected').length;
  console.log(
    `${WAITS} waits of ${WAIT_MS} ms that never reach their position (${refused} answered -32032 after ${seconds.toFixed(1)} s):`,
  );
  console.log(`  ${total} Redis commands, ${(total / WAITS).toFixed(1)} per wait`);
  for (const [command, n] of [...calls].sort((a, b) => b[1] - a[1]))
    console.log(`    ${command}: ${n}`);
} finally {
  await store.close();
  redis.disconnect();
  await server.stop();
}
