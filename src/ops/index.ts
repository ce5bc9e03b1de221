/**
 * Operations: what an instance needs to run among others in production. Start-up checks of Redis
 * and the instance registry (one live process per `SERVER_ID`), graceful shutdown in DESIGN.md
 * §7's order, and the metrics of commands and of the instance itself.
 */
export {
  type BacklogReader,
  meterBacklog,
  meterCommands,
  meterReplicaWait,
  meterWorker,
} from './command-metrics.js';
export { type InstanceFacts, meterInstance } from './instance-metrics.js';
export {
  describeHolder,
  type InstanceInfo,
  InstanceRegistry,
  type InstanceRegistryOptions,
  type JoinResult,
} from './instance-registry.js';
export {
  GracefulShutdown,
  readinessDrainMs,
  type ShutdownOptions,
  type ShutdownStep,
  sleepUntil,
} from './shutdown.js';
export { passStartupChecks, type StartupOptions, StartupRefusedError } from './startup.js';
export {
  assessRedis,
  type Finding,
  parseInfo,
  type RedisFacts,
  readRedisFacts,
} from './startup-checks.js';
export {
  familyOf,
  type MemoryReading,
  meterRedisMemory,
  meterSnapshots,
  readMemory,
} from './storage-metrics.js';
