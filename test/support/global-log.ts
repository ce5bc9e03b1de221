import { START } from '../../src/events/event-store.js';
import { partitioningFor } from '../../src/events/partitions.js';
import { DEFAULT_STORE_SETTINGS } from '../../src/events/prepare-append.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { RedisEventStore } from '../../src/events/redis-event-store.js';

/**
 * Every event of a prefix's global log (`{prefix}:all`, or every partition's log with
 * `partitions` > 1), counted by the command id that caused it. Read through the store: a log entry
 * refers to its entity stream's entry, which holds the event's metadata.
 */
export async function eventsByCommand(
  redis: RedisClient,
  prefix: string,
  partitions = 1,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [partition, keys] of partitioningFor(prefix, partitions).keys.entries()) {
    const store = new RedisEventStore(redis, keys, {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'test-reader',
      ...(partitions > 1 ? { partition } : {}),
    });
    let after = START;
    for (;;) {
      const page = await store.readAll({ after, limit: 1000 });
      for (const event of page.events) {
        const id = event.metadata.commandId ?? '(none)';
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      after = page.nextPosition;
      if (page.isEnd) break;
    }
  }
  return counts;
}
