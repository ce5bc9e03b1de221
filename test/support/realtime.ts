import type { Redis } from 'ioredis';
import { RpcClient } from '../../src/client/index.js';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { keysFor } from '../../src/index.js';
import { parseSseIdParts } from '../../src/sse/sse-id.js';

/** Every entry id of the test prefix's notifications stream, oldest first. */
export async function notifyIds(redis: Redis, prefix: string, after = '-'): Promise<string[]> {
  const entries = await redis.xrange(
    keysFor(prefix).notify,
    after === '-' ? '-' : `(${after}`,
    '+',
  );
  return entries.map(([id]) => id);
}

/** The newest entry id of the notifications stream ('0-0' when empty). */
export async function notifyHead(redis: Redis, prefix: string): Promise<string> {
  const [newest] = await redis.xrevrange(keysFor(prefix).notify, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}

/** A JSON-RPC client acting as `userId` (AUTH_MODE=none headers). */
export function rpcAs(url: string, userId: string, extra: Record<string, string> = {}): RpcClient {
  return new RpcClient({ url, headers: { 'X-User-Id': userId, ...extra } });
}

/** Sends `message.broadcast` as the admin `oak`. */
export function adminMessage(url: string, params: Record<string, unknown>): Promise<unknown> {
  return rpcAs(url, 'oak', { 'X-User-Roles': 'admin' }).call('message.broadcast', params);
}

/** True when `ids` are strictly increasing stream ids without repeats. */
export function strictlyIncreasing(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    const [am, as] = ids[i - 1]!.split('-').map(BigInt);
    const [bm, bs] = ids[i]!.split('-').map(BigInt);
    if (!(am! < bm! || (am === bm && as! < bs!))) return false;
  }
  return true;
}

/** Every partition's notification entry ids, oldest first, in partition order. */
export async function notifyIdsByPartition(
  redis: RedisClient,
  prefix: string,
  partitions: number,
): Promise<string[][]> {
  return Promise.all(
    partitioningFor(prefix, partitions).keys.map(async (keys) =>
      (await redis.xrange(keys.notify, '-', '+')).map(([id]) => id),
    ),
  );
}

/**
 * Where a `position.update` frame's notification is: the partition of its trainer's stream, and
 * its entry there — the frame id's position of that partition (DESIGN.md §8).
 */
export function updateEntry(
  prefix: string,
  partitions: number,
  update: { readonly id: string; readonly params: unknown },
): { partition: number; entry: string } {
  const { trainerId } = update.params as { trainerId: string };
  const partition = partitioningFor(prefix, partitions).of(`trainer-${trainerId}`);
  const entry = parseSseIdParts(update.id)?.positions[partition];
  if (!entry) throw new Error(`the SSE id ${update.id} is not a vector of ${partitions}`);
  return { partition, entry };
}

/** `position.update` frames' entries, per partition, in the order received. */
export function updatesByPartition(
  prefix: string,
  partitions: number,
  updates: readonly { readonly id: string; readonly params: unknown }[],
): string[][] {
  const by: string[][] = Array.from({ length: partitions }, () => []);
  for (const u of updates) {
    const { partition, entry } = updateEntry(prefix, partitions, u);
    by[partition]!.push(entry);
  }
  return by;
}
