import { RpcClient } from '../../src/client/index.js';
import {
  DEFAULT_STORE_SETTINGS,
  foldInMemory,
  type Partitioning,
  partitioningFor,
  type RecordedEvent,
  type RedisClient,
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

/** Partition p's log as its projector reads it (positions `<p>:<id>` with several partitions). */
export function partitionLog(redis: RedisClient, partitioning: Partitioning, p: number) {
  return new RedisEventStore(redis, partitioning.keys[p]!, {
    ...DEFAULT_STORE_SETTINGS,
    serverId: 'test',
    ...(partitioning.count > 1 ? { partition: p } : {}),
  });
}

/** Every event of partition p's log, in order. */
async function readPartition(
  redis: RedisClient,
  partitioning: Partitioning,
  p: number,
): Promise<RecordedEvent[]> {
  const store = partitionLog(redis, partitioning, p);
  const events: RecordedEvent[] = [];
  let after = START;
  for (;;) {
    const page = await store.readAll({ after, limit: 1000 });
    events.push(...page.events);
    after = page.nextPosition;
    if (page.isEnd) break;
  }
  return events;
}

/**
 * The trainer read model computed in memory from every partition's log, in trainerId order (a
 * trainer's events are all in its stream's partition, so the partitions fold independently).
 */
export async function foldTrainers(
  redis: RedisClient,
  prefix: string,
  partitions = 1,
): Promise<Record<string, unknown>[]> {
  const partitioning = partitioningFor(prefix, partitions);
  const events: RecordedEvent[] = [];
  for (let p = 0; p < partitions; p++)
    events.push(...(await readPartition(redis, partitioning, p)));
  const docs = foldInMemory(trainerPositions, events);
  return [...docs.keys()].sort().map((id) => docs.get(id)!);
}

/**
 * Waits until a projection's checkpoint is the last entry of every partition's log (or throws);
 * returns the checkpoints.
 */
export async function waitCaughtUp(
  redis: RedisClient,
  prefix: string,
  name: string,
  timeoutMs = 30_000,
  partitions = 1,
): Promise<string[]> {
  const partitioning = partitioningFor(prefix, partitions);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lagging: string[] = [];
    const checkpoints: string[] = [];
    for (const [p, keys] of partitioning.keys.entries()) {
      const [[id = '0'] = []] = await redis.xrevrange(keys.all, '+', '-', 'COUNT', 1);
      const last = id !== '0' && partitions > 1 ? `${p}:${id}` : id;
      const checkpoint = (await redis.hget(keys.projection(name), 'checkpoint')) ?? '0';
      checkpoints.push(checkpoint);
      if (checkpoint !== last) lagging.push(`partition ${p} at ${checkpoint}, log ends at ${last}`);
    }
    if (lagging.length === 0) return checkpoints;
    if (Date.now() > deadline) throw new Error(`${name} stuck: ${lagging.join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
