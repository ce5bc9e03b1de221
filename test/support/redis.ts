import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { redisServerAvailable } from '../../scripts/lib/redis-server.js';
import { masters, type RedisClient } from '../../src/events/redis-connection.js';

/** The test Redis URL, or undefined (with the reason printed once) when tests must skip. */
export function testRedisUrl(): string | undefined {
  return process.env.TEST_REDIS_URL;
}

/** Why Redis tests are skipped, if they are. */
export function redisMissingReason(): string {
  return process.env.STREAMCAST_TEST_REDIS_MISSING ?? 'TEST_REDIS_URL is not set';
}

/** A key prefix nobody else uses, so tests share one Redis without flushing it. */
export function uniquePrefix(label = 't'): string {
  return `${label}-${randomBytes(5).toString('hex')}`;
}

/** A new client on the test Redis. */
export function testClient(): Redis {
  const url = testRedisUrl();
  if (!url) throw new Error(redisMissingReason());
  return new Redis(url, { maxRetriesPerRequest: 3 });
}

/** Every key under a prefix's hash tags, shared and partitions' (SCAN on every master, never KEYS). */
export async function keysUnder(redis: RedisClient, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `{${prefix}[}:]*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return found.sort();
}

/** Deletes every key under a prefix's hash tags (what a test wrote), one slot-safe DEL each. */
export async function clearPrefix(redis: RedisClient, prefix: string): Promise<void> {
  const left = await keysUnder(redis, prefix);
  for (let i = 0; i < left.length; i += 1000) {
    await Promise.all(left.slice(i, i + 1000).map((key) => redis.del(key)));
  }
}

/**
 * Declares a suite that needs Redis: it fails under CI when Redis is missing (the global fixture
 * throws first), and locally skips with the printed reason.
 */
export function describeWithRedis(title: string, body: (this: Mocha.Suite) => void): void {
  describeUnless(title, () => (testRedisUrl() ? undefined : redisMissingReason()), body);
}

/**
 * Declares a suite that starts redis-server processes of its own (to kill and restart them), with
 * the same rules as `describeWithRedis`.
 */
export function describeWithRedisServer(title: string, body: (this: Mocha.Suite) => void): void {
  const reason = 'redis-server is not on PATH (install it: apt-get install redis-server)';
  describeUnless(title, () => (redisServerAvailable() ? undefined : reason), body);
}

function describeUnless(
  title: string,
  missing: () => string | undefined,
  body: (this: Mocha.Suite) => void,
): void {
  describe(title, function () {
    before(function () {
      const reason = missing();
      if (reason === undefined) return;
      process.stdout.write(`    skipped "${title}": ${reason}\n`);
      this.skip();
    });
    body.call(this);
  });
}

/**
 * The keyspace under a prefix as `key=type:size` lines (stream length, string length, hash and
 * sorted-set size), sorted: equal snapshots before and after some requests mean they wrote nothing.
 */
export async function keyspaceSnapshot(redis: RedisClient, prefix: string): Promise<string[]> {
  const keys = await keysUnder(redis, prefix);
  const sizeOf: Record<string, (k: string) => Promise<number>> = {
    stream: (k) => redis.xlen(k),
    string: (k) => redis.strlen(k),
    hash: (k) => redis.hlen(k),
    zset: (k) => redis.zcard(k),
  };
  const lengths = await Promise.all(
    keys.map(async (k) => {
      const type = await redis.type(k);
      const size = sizeOf[type];
      if (!size) throw new Error(`snapshot: no size for ${type} key ${k}`);
      return `${type}:${await size(k)}`;
    }),
  );
  return keys.map((k, i) => `${k}=${lengths[i]}`);
}

/** An instance on the test Redis under a key prefix of its own, and a client to look at its keys. */
export interface QuietInstance {
  readonly app: AppProcess;
  readonly redis: Redis;
  readonly prefix: string;
  /** Stops the instance and deletes its keys. */
  stop(): Promise<void>;
}

/**
 * Starts an instance (with `env` besides Redis, its secret key and prefix) and waits until the
 * writes it makes once at start-up are done (its projection lease), so that the keyspace only
 * changes from then on for what it is sent.
 */
export async function startQuietInstance(
  label: string,
  env: Record<string, string>,
): Promise<QuietInstance> {
  const redis = testClient();
  const prefix = uniquePrefix(label);
  const app = await startApp({
    REDIS_URL: testRedisUrl(),
    SECRET_KEY: randomBytes(32).toString('base64'),
    KEY_PREFIX: prefix,
    ...env,
  });
  await app.waitForLine(/listening/);
  await app.waitForLine(/connected to Redis/);
  await app.waitForLine(/projection trainer-positions: leading/); // its lease is written once
  return {
    app,
    redis,
    prefix,
    stop: async () => {
      await app.stop();
      await clearPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
