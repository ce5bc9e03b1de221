/**
 * A protocol-level EventStoreDB test double: an in-process gRPC server that speaks the protocol of
 * `@eventstore/db-client` 6.2.1 (ServerFeatures, Streams.Append/BatchAppend/Read, catch-up
 * subscriptions to `$all` with server-side filters), all in memory. Test code, never shipped.
 */
export type { EventStoreDouble, EventStoreDoubleOptions, ServedMethod } from './server.js';
export { startEventStoreDouble } from './server.js';
export type { ProposedEvent, StoredEvent } from './store.js';
