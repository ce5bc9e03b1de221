import type { Json } from '../events/envelope.js';
import { isJsonObject } from '../events/json.js';
import type { MemoryNotifications, StoredNotification } from '../events/memory-notifications.js';
import { compareStreamIds } from '../events/stream-ids.js';
import type { NotificationEntry, NotificationLog, Retention, Tail } from './notification-log.js';

/** Stored params: a JSON object, as the append wrote it. */
function paramsOf(text: string): { readonly [k: string]: Json } {
  const params: unknown = JSON.parse(text);
  if (!isJsonObject(params))
    throw new Error('a stored notification has params that are not an object');
  return params;
}

function entryOf(n: StoredNotification): NotificationEntry {
  return {
    id: n.id,
    method: n.method,
    params: paramsOf(n.params),
    target: n.target,
    targetIds: n.targetIds ? n.targetIds.split(',') : [],
    topic: n.topic,
    serverId: n.serverId,
    ...(n.trace ? { traceparent: n.trace } : {}),
  };
}

/** The memory store's notifications as a log (one instance: the epoch never changes). */
export class MemoryNotificationLog implements NotificationLog {
  private readonly epochId = Date.now().toString(36);

  constructor(private readonly stream: MemoryNotifications) {}

  async epoch(): Promise<string> {
    return this.epochId;
  }

  async renewEpoch(): Promise<string> {
    return this.epochId;
  }

  async retention(): Promise<Retention> {
    return this.stream.retentionState();
  }

  async range(after: string, until: string, count: number): Promise<NotificationEntry[]> {
    return this.stream
      .after(after)
      .filter((n) => compareStreamIds(n.id, until) <= 0)
      .slice(0, count)
      .map(entryOf);
  }

  follow(after: string, handler: (entries: readonly NotificationEntry[]) => void): Tail {
    let cursor = after;
    const deliver = () => {
      const fresh = this.stream.after(cursor);
      if (fresh.length === 0) return;
      cursor = fresh.at(-1)!.id;
      handler(fresh.map(entryOf));
    };
    this.stream.written.on('notification', deliver);
    queueMicrotask(deliver);
    return {
      close: async () => {
        this.stream.written.off('notification', deliver);
      },
    };
  }
}
