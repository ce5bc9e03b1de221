/**
 * `npm run sizing`: measures the Redis memory one event and one remembered command id cost, on a
 * private redis-server, so operators can size Redis (README "Operations"). Prints a small table.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_STORE_SETTINGS, keysFor, RedisEventStore } from '../src/index.js';
import { startRedisServer } from './lib/redis-server.js';

const EVENTS = Number(process.env.SIZING_EVENTS ?? 20_000);
const STREAMS = 1000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const store = new RedisEventStore(redis, keysFor('sizing'), {
    ...DEFAULT_STORE_SETTINGS,
    serverId: 'sizing-host-1a2b3c4d',
  });
  const payload = {
    trainerId: 'ash',
    position: { x: 12.5, y: -3.25 },
    movement: { isMoving: true, direction: { x: 0.6, y: 0.8 }, speed: 5 },
  };
  const dataBytes = Buffer.byteLength(JSON.stringify(payload));
  const base = await usedMemory(redis);
  for (let i = 0; i < EVENTS; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, j) =>
        store.append(`trainer-t${(i + j) % STREAMS}`, [{ type: 'TrainerMoved', data: payload }]),
      ),
    );
  }
  const afterEvents = await usedMemory(redis);
  for (let i = 0; i < EVENTS; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, () =>
        store.recordOutcome(randomUUID(), {
          kind: 'rejected',
          error: { error: 'rule', rule: 'trainer-not-moving', message: 'trainer is not moving' },
        }),
      ),
    );
  }
  const afterKeys = await usedMemory(redis);
  const perEvent = Math.round((afterEvents - base) / EVENTS);
  const perKey = Math.round((afterKeys - afterEvents) / EVENTS);
  process.stdout.write(
    `| what | bytes |\n| --- | --- |\n| event data (JSON) | ${dataBytes} |\n| one event (entity stream + global log, metadata included) | ${perEvent} |\n| one remembered command id (outcome key with TTL) | ${perKey} |\n`,
  );
} finally {
  redis.disconnect();
  await server.stop();
}
