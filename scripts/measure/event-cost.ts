/**
 * What an event costs in Redis (README "What an event costs"): appends trainer-move-sized events
 * through the Redis store on a private redis-server, then reports MEMORY USAGE per event of the
 * log and of the entity streams, and the bytes each field of an entry holds; and the Lua time of
 * reading a stream's version the way the append script does (XREVRANGE COUNT 1 of the newest
 * entry, since retention trims entity streams) against XLEN (what it did before), per call.
 * And the read-path cost of log entries that refer to the entity stream's entry (today's format)
 * against log entries holding the whole event (the format before): the same events read back
 * whole with `readAll` pages of 1000, both logs in the same run, alternating rounds.
 * `node --import tsx scripts/measure/event-cost.ts` (EVENTS, STREAMS to change the run).
 */
import { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  type EventStore,
  keysFor,
  RedisEventStore,
  START,
} from '../../src/index.js';
import { startRedisServer } from '../lib/redis-server.js';

const EVENTS = Number(process.env.EVENTS ?? 20_000);
const STREAMS = Number(process.env.STREAMS ?? 50);
const CALLS = 200_000;
const ROUNDS = 3;

/** Reads the whole log with readAll pages of 1000; returns events per second. */
async function readRate(store: EventStore): Promise<number> {
  const started = process.hrtime.bigint();
  let after = START;
  let read = 0;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    read += page.events.length;
    after = page.nextPosition;
    if (page.isEnd) break;
  }
  if (read !== EVENTS) throw new Error(`read ${read} events, expected ${EVENTS}`);
  return read / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** The same events in a log of the format before references (each entry holds its event). */
async function writeWholeLog(redis: Redis, from: EventStore, to: string): Promise<void> {
  let after = START;
  for (;;) {
    const page = await from.readAll({ after, limit: 1000 });
    const pipeline = redis.pipeline();
    for (const e of page.events) {
      pipeline.xadd(
        to,
        '*',
        'stream',
        e.streamId,
        'version',
        e.version,
        'id',
        e.id,
        'type',
        e.type,
        'schema',
        e.schemaVersion,
        'data',
        JSON.stringify(e.data),
        'meta',
        JSON.stringify(e.metadata),
      );
    }
    await pipeline.exec();
    after = page.nextPosition;
    if (page.isEnd) return;
  }
}

/** A trainer.move start event's data and metadata, as the trainer domain writes them. */
const data = {
  trainerId: 'trainer-0042',
  action: 'start',
  position: { x: 1234.5678, y: -987.6543 },
  direction: { x: 0.6, y: 0.8 },
  speed: 5,
  startedAt: '2026-12-03T13:00:00.000Z',
};

const server = await startRedisServer();
const redis = new Redis(server.url);
const keys = keysFor('cost');
const store = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 'srv-1' });
try {
  for (let i = 0; i < EVENTS; i += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, EVENTS - i) }, (_, j) =>
        store.append(`trainer-${(i + j) % STREAMS}`, [{ type: 'TrainerMoved', data }], {
          idempotencyKey: `user-${(i + j) % STREAMS}:${crypto.randomUUID()}`,
          metadata: {
            correlationId: crypto.randomUUID(),
            commandId: crypto.randomUUID(),
            userId: `user-${(i + j) % STREAMS}`,
          },
        }),
      ),
    );
  }
  const logBytes = Number(await redis.memory('USAGE', keys.all, 'SAMPLES', 0));
  let streamBytes = 0;
  for (let s = 0; s < STREAMS; s += 1) {
    streamBytes += Number(await redis.memory('USAGE', keys.stream(`trainer-${s}`), 'SAMPLES', 0));
  }
  const [logEntry] = (await redis.xrange(keys.all, '-', '+', 'COUNT', 1)) as [string, string[]][];
  const [streamEntry] = (await redis.xrange(keys.stream('trainer-0'), '-', '+', 'COUNT', 1)) as [
    string,
    string[],
  ][];
  const fields = (entry: [string, string[]] | undefined) => {
    const out: Record<string, number> = {};
    const flat = entry?.[1] ?? [];
    for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = Buffer.byteLength(flat[i + 1]!);
    return out;
  };
  const lua = (read: string) =>
    `local t0 = redis.call('TIME') for i = 1, ${CALLS} do ${read} end local t1 = redis.call('TIME')
     return (t1[1] - t0[1]) * 1000000 + (t1[2] - t0[2])`;
  const key = keys.stream('trainer-0');
  const xlenUs = Number(await redis.eval(lua(`redis.call('XLEN', KEYS[1])`), 1, key));
  const newestUs = Number(
    await redis.eval(lua(`redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)`), 1, key),
  );
  const wholeKeys = keysFor('whole');
  await writeWholeLog(redis, store, wholeKeys.all);
  const whole = new RedisEventStore(redis, wholeKeys, { ...DEFAULT_STORE_SETTINGS, serverId: 's' });
  const wholeLogBytes = Number(await redis.memory('USAGE', wholeKeys.all, 'SAMPLES', 0));
  const rates = { referring: [] as number[], whole: [] as number[] };
  for (let round = 0; round < ROUNDS; round += 1) {
    rates.referring.push(await readRate(store));
    rates.whole.push(await readRate(whole));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const report = {
    events: EVENTS,
    streams: STREAMS,
    logBytesPerEvent: Math.round(logBytes / EVENTS),
    logBytesPerEventHoldingTheEvent: Math.round(wholeLogBytes / EVENTS),
    entityStreamBytesPerEvent: Math.round(streamBytes / EVENTS),
    logEntryFieldBytes: fields(logEntry),
    streamEntryFieldBytes: fields(streamEntry),
    versionReadUs: {
      xlen: +(xlenUs / CALLS).toFixed(3),
      newestEntry: +(newestUs / CALLS).toFixed(3),
    },
    readAllEventsPerSecond: {
      referring: Math.round(median(rates.referring)),
      holdingTheEvent: Math.round(median(rates.whole)),
      ratio: +(median(rates.referring) / median(rates.whole)).toFixed(2),
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  redis.disconnect();
  await server.stop();
}
