/**
 * `npm run sizing`: what trainer moves cost, so operators can size Redis and the archive (README
 * "Sizing"). Sends SIZING_EVENTS trainer.move commands (default 20 000, over SIZING_TRAINERS
 * trainers, default 1 000) through the real command path — bus, runtime, snapshots every 100 — on
 * a private redis-server, then reports per event the bytes of the global log and of the entity
 * streams, and per remembered command id the bytes of its record, each two ways: Redis's own
 * MEMORY USAGE, and the drop of `used_memory` when the family is deleted (everything included:
 * the key's dictionary entries, its expiry entry, allocator rounding). Then archives the same
 * events into PostgreSQL (ARCHIVE_URL, else 127.0.0.1:5432 when it answers; a database of its own,
 * dropped afterwards) and reports the archive's bytes per event (table, indexes and TOAST).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PostgresEventArchive } from '../src/archive/postgres-event-archive.js';
import {
  type Actor,
  CommandRuntime,
  CommandSender,
  catalogueHandlers,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  type Keys,
  keysFor,
  MemorySecretStore,
  MemorySnapshotStore,
  moveTrainer,
  RedisCommandBus,
  RedisEventStore,
  START,
  silentLogger,
} from '../src/index.js';
import { startRedisServer } from './lib/redis-server.js';

const EVENTS = Number(process.env.SIZING_EVENTS ?? 20_000);
const TRAINERS = Number(process.env.SIZING_TRAINERS ?? 1000);
const AT_ONCE = 200;

const usedMemory = async (redis: Redis) =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);

async function scanKeys(redis: Redis, match: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** A family's bytes: MEMORY USAGE summed, and the drop of used_memory when it is deleted. */
async function measureFamily(redis: Redis, keys: readonly string[]) {
  let usage = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const sizes = await Promise.all(
      keys.slice(i, i + 500).map((k) => redis.memory('USAGE', k, 'SAMPLES', 0)),
    );
    usage += sizes.reduce<number>((a, b) => a + Number(b ?? 0), 0);
  }
  const before = await usedMemory(redis);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  return { usage, dropped: before - (await usedMemory(redis)) };
}

/** Sends EVENTS moves through the bus; returns the store and the keys. */
async function sendMoves(redis: Redis, keys: Keys) {
  const store = new RedisEventStore(redis, keys, {
    ...DEFAULT_STORE_SETTINGS,
    serverId: 'sizing-host-1a2b3c4d',
  });
  const bus = new RedisCommandBus(redis, keys, {
    maxAttempts: 3,
    timeoutMs: 30_000,
    serverId: 'sizing-host-1a2b3c4d',
    backlogMax: 10_000,
    concurrency: 64,
    claimIdleMs: 5000,
    handlerDeadlineMs: 30_000,
    dedupTtlS: 86_400,
    graceMs: 1000,
    fault: FaultSwitch.from(undefined, silentLogger),
    logger: silentLogger,
    events: store,
  });
  await bus.start();
  const stats = { loaded: 0, rebuilt: 0, saved: 0 };
  const handlers = catalogueHandlers([moveTrainer], {
    store,
    ports: commandPorts(store, new MemorySecretStore()),
    settings: { trainerSpeed: 5, deployMaxQueued: 100 },
    snapshots: { store: new MemorySnapshotStore(), every: 100, stats },
  });
  const worker = await bus.serve(new CommandRuntime(store).processor(handlers));
  const sender = new CommandSender(bus, { timeoutMs: 30_000, seal: () => '' });
  for (let i = 0; i < EVENTS; i += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, EVENTS - i) }, (_, j) => {
        const n = i + j;
        const actor: Actor = {
          userId: `trainer-${n % TRAINERS}`,
          groups: [],
          roles: [],
          isAdmin: false,
        };
        const params =
          Math.floor(n / TRAINERS) % 2 === 0
            ? { action: 'start' as const, directionX: 3, directionY: 4, commandId: randomUUID() }
            : { action: 'stop' as const, commandId: randomUUID() };
        return sender.send(moveTrainer, params, { actor, correlationId: params.commandId });
      }),
    );
  }
  await worker.close(1000);
  await bus.close();
  return store;
}

/** The archive's bytes per event in PostgreSQL, or why it was not measured. */
async function archiveBytes(store: RedisEventStore): Promise<number | string> {
  const server = process.env.ARCHIVE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const admin = new pg.Client({ connectionString: server, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (error) {
    return `not measured: no PostgreSQL at ${new URL(server).host} (${String(error)}); set ARCHIVE_URL`;
  }
  const name = `sc_sizing_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const archive = new PostgresEventArchive({ url: url.toString() });
  try {
    let after = START;
    for (;;) {
      const page = await store.readAll({ after, limit: 500 });
      const batch = page.events.map((event) => ({
        partition: 0,
        entryId: event.globalPosition,
        event,
      }));
      if (batch.length > 0 && !(await archive.write(0, 1, batch))) throw new Error('fenced out');
      after = page.nextPosition;
      if (page.isEnd) break;
    }
    const db = new pg.Client({ connectionString: url.toString() });
    await db.connect();
    await db.query('VACUUM ANALYZE archive_events');
    const { rows } = await db.query<{ bytes: string; count: string }>(
      "SELECT pg_total_relation_size('archive_events') AS bytes, count(*) AS count FROM archive_events",
    );
    await db.end();
    return Math.round(Number(rows[0]!.bytes) / Number(rows[0]!.count));
  } finally {
    await archive.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const server = await startRedisServer();
const redis = new Redis(server.url);
try {
  const keys = keysFor('sizing');
  const store = await sendMoves(redis, keys);
  const postgres = await archiveBytes(store);
  const records = await measureFamily(redis, await scanKeys(redis, '{sizing}:c:*'));
  const log = await measureFamily(redis, [keys.all]);
  const streams = await measureFamily(redis, await scanKeys(redis, '{sizing}:s:*'));
  const per = (bytes: number) => Math.round(bytes / EVENTS);
  const row = (what: string, m: { usage: number; dropped: number }) =>
    `| ${what} | ${per(m.usage)} | ${per(m.dropped)} |`;
  process.stdout.write(
    [
      `${EVENTS} trainer moves over ${TRAINERS} trainers (Redis ${(await redis.info('server')).match(/redis_version:(\S+)/)?.[1]}, a private redis-server)`,
      '',
      '| what | MEMORY USAGE (bytes) | used_memory drop on delete (bytes) |',
      '| --- | --- | --- |',
      row('global log, per event', log),
      row('entity streams, per event', streams),
      row('one remembered command id (its record, for COMMAND_DEDUP_TTL_S)', records),
      '',
      `PostgreSQL archive, per event (table + indexes + TOAST): ${typeof postgres === 'number' ? `${postgres} bytes` : postgres}`,
      '',
    ].join('\n'),
  );
} finally {
  redis.disconnect();
  await server.stop();
}
