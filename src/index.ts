/**
 * streamcast as a library: the building blocks main.ts wires together, for embedding.
 * What exists so far: configuration, logging, typed errors, and the event store with its adapters.
 */
export { type Config, loadConfig } from './config.js';
export * from './errors.js';
export * from './events/index.js';
export { createLogger, type Logger, silentLogger } from './log.js';
