/**
 * Commands: the `CommandBus` port, its Redis (consumer group) and memory adapters, the worker
 * loop, the runtime that handles commands with deciders, and the connection commands' handlers.
 */
export * from './command-bus.js';
export { connectAwsData, connectGitHubData, connectionHandlers } from './connection-handlers.js';
export { type DeciderRuntimeOptions, type DeciderSpec, deciderHandler } from './decider-handler.js';
export { FaultSwitch } from './fault.js';
export {
  MemoryCommandBus,
  type MemoryCommandBusOptions,
} from './memory-command-bus.js';
export {
  COMMAND_GROUP,
  RedisCommandBus,
  type RedisCommandBusOptions,
} from './redis-command-bus.js';
export type { WorkerStats } from './redis-worker.js';
