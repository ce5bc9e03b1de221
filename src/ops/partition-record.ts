/**
 * PARTITIONS is fixed for the data's lifetime (DESIGN.md §8): the first instance records it in
 * `{prefix}:meta`; an instance configured with another number is refused, naming both. Data written
 * before the record existed is one partition's (`{prefix}:all`).
 */
import type { Keys } from '../events/keys.js';
import type { RedisClient } from '../events/redis-connection.js';

/** The refusal, or undefined when `partitions` matches (or was just recorded). */
export async function checkPartitionRecord(
  redis: RedisClient,
  shared: Keys,
  partitions: number,
): Promise<string | undefined> {
  let recorded = await redis.hget(shared.meta, 'partitions');
  if (recorded === null) {
    // data from before the record is one partition's: refuse to split it silently
    const unpartitioned = partitions !== 1 && (await redis.exists(shared.all)) === 1;
    if (unpartitioned) return refusal(1, partitions, shared);
    await redis.hsetnx(shared.meta, 'partitions', String(partitions));
    recorded = await redis.hget(shared.meta, 'partitions');
  }
  return Number(recorded) === partitions
    ? undefined
    : refusal(Number(recorded), partitions, shared);
}

function refusal(recorded: number, configured: number, shared: Keys): string {
  return `PARTITIONS is ${configured} but the data under ${shared.sharedTag} has ${recorded} partition${recorded === 1 ? '' : 's'} (recorded in ${shared.meta}; fixed for the data's lifetime). Fix: set PARTITIONS=${recorded}, or use another KEY_PREFIX for a new data set.`;
}
