/**
 * Realtime: notifications delivered over Server-Sent Events from whichever instance holds each
 * connection (DESIGN.md G5–G7), and one stream's events followed live.
 */

export * from './directory.js';
export { withFastPath } from './fast-path.js';
export * from './frames.js';
export { Hub, type HubOptions, type ResetReason } from './hub.js';
export { MemoryNotificationLog } from './memory-notification-log.js';
export * from './notification-log.js';
export { type OpenRequest, Realtime, type RealtimeOptions, SSE_HEADERS } from './realtime.js';
export { RedisNotificationLog } from './redis-notification-log.js';
export * from './routing.js';
export { type CloseReason, SseSession } from './session.js';
export { StreamFeed } from './stream-feed.js';
