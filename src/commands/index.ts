/**
 * Commands: the `CommandBus` port, its Redis (consumer group) and memory adapters, the worker
 * loop, and the runtime that handles commands with deciders.
 */
export * from './command-bus.js';
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
