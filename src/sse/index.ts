/**
 * Realtime: notifications delivered over Server-Sent Events from whichever instance holds each
 * connection (DESIGN.md G5–G7), and one stream's events followed live.
 */

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
