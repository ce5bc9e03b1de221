/**
 * Wiring of realtime delivery: the hub tailing the notifications, `GET /events` sessions, the
 * stream feed of `GET /streams/…/events`, and the event store whose appends take the writer's
 * fast path (DESIGN.md §7).
 */
import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { Admission } from '../sse/admission.js';
import { withFastPath } from '../sse/fast-path.js';
import { Hub } from '../sse/hub.js';
import { Realtime } from '../sse/realtime.js';
import { StreamFeed } from '../sse/stream-feed.js';
import type { Backend } from './backend.js';

/** An instance's realtime parts, and the event store whose appends take the writer's fast path. */
export interface RealtimeParts {
  readonly hub: Hub;
  readonly realtime: Realtime;
  readonly feed: StreamFeed;
  readonly store: EventStore;
}

export function realtimeFor(config: Config, backend: Backend, logger: Logger): RealtimeParts {
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
  const store = withFastPath(backend.store, hub, config.SERVER_ID, backend.partitioning.of);
  return { hub, realtime, feed, store };
}
