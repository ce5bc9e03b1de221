/**
 * Jobs waiting in a Redis job queue (entries not yet delivered to its group: the group's lag, or
 * the whole stream before the group exists), counted as commit-batch-n counts them.
 */
import type { RedisClient } from './redis-connection.js';
import { fieldMap } from './redis-entries.js';

/** Jobs of `key` nobody in `group` took yet. */
export async function waitingJobs(redis: RedisClient, key: string, group: string): Promise<number> {
  const length = await redis.xlen(key);
  if (length === 0) return 0;
  const groups = (await redis.xinfo('GROUPS', key).catch(() => [])) as unknown[][];
  for (const g of groups) {
    const info = fieldMap(g);
    if (info.name === group && typeof info.lag === 'number') return info.lag;
  }
  return length;
}
