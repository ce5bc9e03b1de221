import type { NewEvent } from '../events/envelope.js';
import type { AppendOptions, AppendResult, EventStore } from '../events/event-store.js';
import type { Hub } from './hub.js';

/** A notification id as the store returns it: `<entry id>`, or `<p>:<entry id>` with partitions. */
function entryId(id: string): string {
  return id.slice(id.indexOf(':') + 1);
}

/**
 * The event store with the writer's fast path (DESIGN.md §7): after an append this instance
 * wrote, its notifications go to the hub at once, which delivers them only in the order of their
 * partition's stream (`partitionOf` the stream appended to: the partition whose stream they are in).
 */
export function withFastPath(
  store: EventStore,
  hub: Hub,
  serverId: string,
  partitionOf: (streamId: string) => number = () => 0,
): EventStore {
  const append = async (
    streamId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> => {
    const result = await store.append(streamId, events, options);
    const records = options?.notifications ?? [];
    if (!result.duplicate && records.length > 0) {
      hub.fastPath(
        partitionOf(streamId),
        result.notifications.map((written, i) => {
          const n = records[i]!;
          return {
            id: entryId(written.id),
            prevId: entryId(written.prevId),
            method: n.method,
            params: n.params,
            target: n.target,
            targetIds: n.targetIds,
            topic: n.topic ?? '',
            serverId,
            ...(options?.metadata?.traceparent
              ? { traceparent: options.metadata.traceparent }
              : {}),
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
    // what the store can and cannot do (EventStoreDB) passes through unchanged
    ...(store.acknowledgesEntries === undefined
      ? {}
      : { acknowledgesEntries: store.acknowledgesEntries }),
    ...(store.findAppended
      ? { findAppended: store.findAppended.bind(store) as typeof store.findAppended }
      : {}),
  };
}
