/**
 * streamcast as a library: the building blocks main.ts wires together, for embedding.
 * What exists so far: configuration, logging, typed errors, the event store and the command bus
 * with their adapters, projections, and connection secrets (sealing and their store); the HTTP
 * surface (app, auth, CORS, health, request logs), metrics, operations (start-up checks, the
 * instance registry, graceful shutdown), realtime delivery over SSE with its typed client, the
 * archive of the log (its port, the PostgreSQL and memory adapters, the archiver), and tracing
 * (OpenTelemetry spans along the command path; the SDK loads only when configured).
 */
export * from './archive/index.js';
export * from './client/index.js';
export * from './commands/index.js';
export { type Config, loadConfig } from './config.js';
export * from './connections/index.js';
export * from './deployments/index.js';
export * from './domain/index.js';
export * from './errors.js';
export * from './events/index.js';
export * from './http/index.js';
export { createLogger, type Logger, silentLogger } from './log.js';
export { Metrics, type MetricsOptions } from './metrics.js';
export * from './ops/index.js';
export * from './projections/index.js';
export * from './rpc/index.js';
export * from './sse/index.js';
export * from './tracing/index.js';
