import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';

/**
 * Every event of a prefix's global log (`{prefix}:all`, or every partition's log with
 * `partitions` > 1), counted by the command id that caused it.
 */
export async function eventsByCommand(
  redis: RedisClient,
  prefix: string,
  partitions = 1,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const keys of partitioningFor(prefix, partitions).keys) {
    let after = '-';
    for (;;) {
      const batch = (await redis.xrange(keys.all, after, '+', 'COUNT', 1000)) as [
        string,
        string[],
      ][];
      for (const [, fields] of batch) {
        const meta = JSON.parse(fields[fields.indexOf('meta') + 1] ?? '{}') as {
          commandId?: string;
        };
        const id = meta.commandId ?? '(none)';
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      if (batch.length < 1000) break;
      after = `(${batch.at(-1)![0]}`;
    }
  }
  return counts;
}
