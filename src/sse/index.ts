/**
 * Realtime: notifications delivered over Server-Sent Events from whichever instance holds each
 * connection (DESIGN.md G5–G7), and one stream's events followed live.
 */
import type { Backend } from '../backend.js';
import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { withFastPath } from './fast-path.js';
import { Hub } from './hub.js';
import { Realtime } from './realtime.js';
import { StreamFeed } from './stream-feed.js';

export * from './directory.js';
export { withFastPath } from './fast-path.js';
export { type FilterRecord, filtersPass, normaliseField } from './filters.js';
export * from './frames.js';
export { Hub, type HubOptions, type ResetReason } from './hub.js';
export { MemoryNotificationLog } from './memory-notification-log.js';
export * from './notification-log.js';
export { type OpenRequest, Realtime, type RealtimeOptions, SSE_HEADERS } from './realtime.js';
export { RedisNotificationLog } from './redis-notification-log.js';
export * from './routing.js';
export { type CloseReason, SseSession } from './session.js';
export { StreamFeed } from './stream-feed.js';
export { checkSubscriptionLimits, type SubscriptionLimits } from './subscription-limits.js';

/** An instance's realtime parts, and the event store whose appends take the writer's fast path. */
export interface RealtimeParts {
  readonly hub: Hub;
  readonly realtime: Realtime;
  readonly feed: StreamFeed;
  readonly store: EventStore;
}

export function createRealtime(config: Config, backend: Backend, logger: Logger): RealtimeParts {
  const log = logger.child({ component: 'sse' });
  const hub = new Hub({
    log: backend.notifications,
    serverId: config.SERVER_ID,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    logger: log,
  });
  const realtime = new Realtime({
    hub,
    directory: backend.directory,
    serverId: config.SERVER_ID,
    maxConnections: config.SSE_MAX_CONNECTIONS,
    maxBufferedBytes: config.SSE_MAX_BUFFERED_BYTES,
    limits: {
      maxFilters: config.SSE_MAX_FILTERS,
      maxFilterValues: config.SSE_MAX_FILTER_VALUES,
    },
    retryMs: config.SSE_RETRY_MS,
    presenceTtlMs: config.PRESENCE_TTL_MS,
    logger: log,
  });
  const feed = new StreamFeed(backend.store, config.SSE_HEARTBEAT_MS, log);
  return { hub, realtime, feed, store: withFastPath(backend.store, hub, config.SERVER_ID) };
}
