import type { Redis } from 'ioredis';
import { RpcClient } from '../../src/client/index.js';
import {
  DEFAULT_STORE_SETTINGS,
  foldInMemory,
  keysFor,
  type RecordedEvent,
  RedisEventStore,
  START,
  trainerPositions,
} from '../../src/index.js';

/** Every trainer as `trainer.list` pages them out (admin), in trainerId order. */
export async function listTrainers(url: string, pageSize = 7): Promise<Record<string, unknown>[]> {
  const client = new RpcClient({ url, headers: { 'X-User-Id': 'oak', 'X-User-Roles': 'admin' } });
  const all: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  do {
    const page: { trainers: Record<string, unknown>[]; nextCursor: string | null } =
      await client.call('trainer.list', { limit: pageSize, ...(cursor ? { cursor } : {}) });
    all.push(...page.trainers);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

/** The trainer read model computed in memory from the whole global log, in trainerId order. */
export async function foldTrainers(
  redis: Redis,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const store = new RedisEventStore(redis, keysFor(prefix), {
    ...DEFAULT_STORE_SETTINGS,
    serverId: 'test',
  });
  const events: RecordedEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    events.push(...page.events);
    after = page.nextPosition;
    if (page.isEnd) break;
  }
  const docs = foldInMemory(trainerPositions, events);
  return [...docs.keys()].sort().map((id) => docs.get(id)!);
}

/** Waits until a projection's checkpoint is the last entry of the global log (or throws). */
export async function waitCaughtUp(
  redis: Redis,
  prefix: string,
  name: string,
  timeoutMs = 30_000,
): Promise<string> {
  const keys = keysFor(prefix);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [[last = '0'] = []] = await redis.xrevrange(keys.all, '+', '-', 'COUNT', 1);
    const checkpoint = (await redis.hget(keys.projection(name), 'checkpoint')) ?? '0';
    if (checkpoint === last) return checkpoint;
    if (Date.now() > deadline)
      throw new Error(`${name} stuck at ${checkpoint}, log ends at ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
