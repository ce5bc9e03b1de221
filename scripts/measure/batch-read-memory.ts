/**
 * What one batch of whole-stream reads costs the instance that answers it: 1000 events of 64 KB in
 * one stream, then batches of 10, 25 and 100 `events.read` members (limit 1000 each) sent to a
 * real instance on a private redis-server; prints each answer's size and the instance's peak RSS
 * (sampled every 10 ms from /proc) against its RSS before the batch.
 * `node --import tsx scripts/measure/batch-read-memory.ts` (BATCHES=10,25 to choose; ENTRY to run
 * another copy of src/main.ts, e.g. an older one).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { DEFAULT_STORE_SETTINGS, keysFor, RedisEventStore } from '../../src/index.js';
import { startApp } from '../lib/app-process.js';
import { startRedisServer } from '../lib/redis-server.js';

const BATCHES = (process.env.BATCHES ?? '10,25,100').split(',').map(Number);
const EVENTS = 1000;
const PREFIX = 'measure';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

/** The highest RSS of `pid` until the returned function is called. */
function samplePeak(pid: number): () => number {
  let peak = rssMb(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {} // the instance died (out of memory)
  }, 10);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

async function fill(url: string): Promise<void> {
  const redis = new Redis(url);
  const store = new RedisEventStore(redis, keysFor(PREFIX), {
    ...DEFAULT_STORE_SETTINGS,
    serverId: 'measure',
  });
  const blob = 'x'.repeat(65_000);
  for (let i = 0; i < EVENTS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        store.append('trainer-ash', [{ type: 'Heavy', data: { i: i + j, blob } }]),
      ),
    );
  }
  await store.close();
  redis.disconnect();
}

async function batch(base: string, size: number): Promise<string> {
  const body = Array.from({ length: size }, (_, id) => ({
    jsonrpc: '2.0',
    id,
    method: 'events.read',
    params: { streamId: 'trainer-ash', limit: 1000 },
  }));
  const res = await fetch(`${base}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'oak', 'x-user-roles': 'admin' },
    body: JSON.stringify(body),
  }).catch((error: unknown) => error as Error);
  if (res instanceof Error) return `no answer (${res.message})`;
  const text = await res.text();
  try {
    const answers = JSON.parse(text) as { result?: { events: unknown[]; isEnd: boolean } }[];
    const answered = Array.isArray(answers) ? answers : [answers];
    const events = answered.reduce((n, a) => n + (a.result?.events.length ?? 0), 0);
    const short = answered.filter((a) => a.result && !a.result.isEnd).length;
    const errors = answered.filter((a) => !a.result).length;
    return `${(text.length / 1048576).toFixed(1)} MB answer, ${events} events, ${short} pages cut short, ${errors} errors`;
  } catch {
    return `HTTP ${res.status}, ${text.length} bytes that are not JSON`;
  }
}

const server = await startRedisServer();
try {
  await fill(server.url);
  const app = await startApp(
    {
      REDIS_URL: server.url,
      KEY_PREFIX: PREFIX,
      SECRET_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
    },
    process.env.ENTRY,
  );
  try {
    await app.waitForLine(/listening|ready/i, 30_000).catch(() => {});
    for (
      let i = 0;
      i < 100 && (await fetch(`${app.url}/readyz`).catch(() => undefined))?.status !== 200;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 200));
    console.log(`${EVENTS} events of 64 KB in one stream; each member reads the whole stream`);
    for (const size of BATCHES) {
      const before = rssMb(app.pid);
      const peak = samplePeak(app.pid);
      const outcome = await batch(app.url, size);
      console.log(
        `  batch of ${size}: ${outcome}; RSS ${before.toFixed(0)} MB before, peak ${peak().toFixed(0)} MB`,
      );
    }
  } finally {
    await app.stop();
  }
} finally {
  await server.stop();
}
