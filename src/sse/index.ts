/**
 * Realtime: notifications delivered over Server-Sent Events from whichever instance holds each
 * connection (DESIGN.md G5–G7), and one stream's events followed live.
 */
import type { Backend } from '../backend.js';
import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { Admission } from './admission.js';
import { withFastPath } from './fast-path.js';
import { Hub } from './hub.js';
import { Realtime } from './realtime.js';
import { StreamFeed } from './stream-feed.js';

export * from './admission.js';
export {
  type DrainOutcome,
  drainedOrClosed,
  type SessionBounds,
  writeBounded,
} from './backpressure.js';
export * from './directory.js';
export { refuseEventStream, SSE_HEADERS, startEventStream } from './event-stream.js';
export { withFastPath } from './fast-path.js';
export { type FilterRecord, filtersPass, normaliseField } from './filters.js';
export * from './frames.js';
export { Hub, type HubOptions, type ResetReason } from './hub.js';
export { MemoryNotificationLog } from './memory-notification-log.js';
export { MemorySessionDirectory } from './memory-session-directory.js';
export * from './notification-log.js';
export {
  type OpenRequest,
  type PreparedSession,
  Realtime,
  type RealtimeOptions,
} from './realtime.js';
export { RedisNotificationLog } from './redis-notification-log.js';
export { RedisSessionDirectory } from './redis-session-directory.js';
export * from './routing.js';
export { type CloseReason, SseSession } from './session.js';
export { type FeedFormat, StreamFeed, type StreamFeedOptions } from './stream-feed.js';
export { StreamSession } from './stream-session.js';
export {
  checkSubscriptionLimits,
  MAX_SUBSCRIPTION_BYTES,
  type SubscriptionLimits,
} from './subscription-limits.js';

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
  // one count of event streams for every SSE route
  const admission = new Admission({
    maxConnections: config.SSE_MAX_CONNECTIONS,
    maxPerUser: config.SSE_MAX_CONNECTIONS_PER_USER,
  });
  const bounds = {
    maxBufferedBytes: config.SSE_MAX_BUFFERED_BYTES,
    stallTimeoutMs: config.SSE_STALL_TIMEOUT_MS,
  };
  const realtime = new Realtime({
    hub,
    directory: backend.directory,
    serverId: config.SERVER_ID,
    admission,
    bounds,
    limits: {
      maxFilters: config.SSE_MAX_FILTERS,
      maxFilterValues: config.SSE_MAX_FILTER_VALUES,
    },
    maxSessionsPerUser: config.SSE_MAX_SESSIONS_PER_USER,
    retryMs: config.SSE_RETRY_MS,
    presenceTtlMs: config.PRESENCE_TTL_MS,
    logger: log,
  });
  const feed = new StreamFeed({
    store: backend.store,
    admission,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    retryMs: config.SSE_RETRY_MS,
    bounds,
    logger: log,
  });
  return { hub, realtime, feed, store: withFastPath(backend.store, hub, config.SERVER_ID) };
}
