/**
 * Commands: the `CommandBus` port, its Redis (consumer group) and memory adapters, the worker
 * loop, the handlers derived from the command catalogue, and the one runtime that commits their
 * decisions.
 */
export * from './command-bus.js';
export type { AppendDecision, DecidedEvent, Decision, RejectDecision } from './decision.js';
export { decodeCommand, definitionHandler, type HandlerDeps } from './definition-handler.js';
export {
  catchUp,
  type Entity,
  EntityCache,
  type Fold,
  loadEntity,
  type SnapshotStats,
  type Snapshotting,
} from './entity.js';
export { FaultSwitch } from './fault.js';
export { catalogueHandlers, commandPorts } from './handlers.js';
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
export {
  CommandRuntime,
  type CommandRuntimeOptions,
  type CommitTarget,
  type Committed,
  describeError,
  type HandledCommand,
} from './runtime.js';
export { CommandSender, recordedResult, resultIn } from './sender.js';
export {
  isSound,
  MemorySnapshotStore,
  RedisSnapshotStore,
  type Snapshot,
  type SnapshotStore,
  snapshotChecksum,
  snapshotOf,
} from './snapshots.js';
