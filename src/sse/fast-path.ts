import type { NewEvent } from '../events/envelope.js';
import type { AppendOptions, AppendResult, EventStore } from '../events/event-store.js';
import type { Hub } from './hub.js';

/**
 * The event store with the writer's fast path (DESIGN.md §7): after an append this instance
 * wrote, its notifications go to the hub at once, which delivers them only in stream order.
 */
export function withFastPath(store: EventStore, hub: Hub, serverId: string): EventStore {
  const append = async (
    streamId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> => {
    const result = await store.append(streamId, events, options);
    const records = options?.notifications ?? [];
    if (!result.duplicate && records.length > 0) {
      hub.fastPath(
        result.notifications.map((written, i) => {
          const n = records[i]!;
          return {
            id: written.id,
            prevId: written.prevId,
            method: n.method,
            params: n.params,
            target: n.target,
            targetIds: n.targetIds,
            topic: n.topic ?? '',
            serverId,
          };
        }),
      );
    }
    return result;
  };
  return {
    append,
    recordOutcome: (key, outcome, opts) => store.recordOutcome(key, outcome, opts),
    getOutcome: (key, opts) => store.getOutcome(key, opts),
    readStream: (id, opts) => store.readStream(id, opts),
    readAll: (opts) => store.readAll(opts),
    head: () => store.head(),
    subscribeAll: (opts, handler) => store.subscribeAll(opts, handler),
    close: () => store.close(),
  };
}
