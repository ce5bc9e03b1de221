import { keysFor } from '../../src/events/keys.js';
import type { RedisClient } from '../../src/events/redis-connection.js';

/** Every event of a prefix's global log `{prefix}:all`, counted by the command id that caused it. */
export async function eventsByCommand(
  redis: RedisClient,
  prefix: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after = '-';
  for (;;) {
    const batch = (await redis.xrange(keysFor(prefix).all, after, '+', 'COUNT', 1000)) as [
      string,
      string[],
    ][];
    for (const [, fields] of batch) {
      const meta = JSON.parse(fields[fields.indexOf('meta') + 1] ?? '{}') as { commandId?: string };
      const id = meta.commandId ?? '(none)';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    if (batch.length < 1000) return counts;
    after = `(${batch.at(-1)![0]}`;
  }
}
