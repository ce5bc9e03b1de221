/**
 * Wiring of commands: the catalogue's handlers, the one runtime that commits their decisions
 * (metered), and the bus's worker serving them; the deployment process manager and its job queue.
 */
import type { Worker } from '../commands/command-bus.js';
import { catalogueHandlers, commandPorts } from '../commands/handlers.js';
import { CommandRuntime } from '../commands/runtime.js';
import type { Config } from '../config.js';
import type { SecretBox } from '../connections/secret-box.js';
import { processManagerFor } from '../deployments/index.js';
import type { JobConsumer } from '../deployments/job-queue.js';
import type { AnyCommandDefinition } from '../domain/command-definition.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { meterCommands, meterSnapshots, meterWorker } from '../ops/index.js';
import type { Backend } from './backend.js';

/** What runs once the start-up checks pass. */
export interface CommandWork {
  /** The Redis worker takes a grace time; the memory one ignores it. */
  readonly worker: Worker & { close(graceMs?: number): Promise<void> };
  /** The deployment job consumer (released jobs resume on another instance). */
  readonly jobs: JobConsumer;
}

/**
 * Starts handling `commands` (the catalogue) and deployment jobs (none with COMMAND_WORKER=off);
 * `store` is the realtime fast path's.
 */
export async function serveCommands(
  commands: readonly AnyCommandDefinition[],
  config: Config,
  backend: Backend,
  secretBox: SecretBox,
  store: EventStore,
  metrics: Metrics,
  logger: Logger,
): Promise<CommandWork> {
  if (config.COMMAND_WORKER === 'off') return noCommandWork(logger);
  const runtime = new CommandRuntime(store, { observe: meterCommands(metrics) });
  const snapshotLog = logger.child({ component: 'snapshots' });
  const snapshotStats = meterSnapshots(metrics);
  const handlers = catalogueHandlers(commands, {
    store,
    ports: commandPorts(store, backend.secrets, secretBox),
    settings: {
      trainerSpeed: config.TRAINER_SPEED,
      // across every partition: PartitionedEventStore.append counts the other partitions' jobs
      deployMaxQueued: config.DEPLOY_MAX_QUEUED,
    },
    snapshots: {
      store: backend.snapshots,
      every: config.SNAPSHOT_EVERY,
      stats: snapshotStats,
      distrusted: (streamId, why) =>
        snapshotLog.warn(`snapshot of ${streamId} not trusted (${why}): rebuilt from its events`, {
          streamId,
        }),
    },
  });
  const worker = await backend.bus.serve(runtime.processor(handlers));
  meterWorker(worker, metrics);
  const log = logger.child({ component: 'deployments' });
  const processManager = processManagerFor(store, runtime, config, log);
  const jobs = await backend.serveJobs({
    run: (id) => processManager.run(id),
    abandon: (id, reason) => processManager.abandon(id, reason),
  });
  return { worker, jobs };
}

/**
 * `COMMAND_WORKER=off`: an API-only instance serves HTTP and SSE and sends commands, but handles
 * none (nor deployment jobs); other instances do.
 */
function noCommandWork(logger: Logger): CommandWork {
  logger.info('COMMAND_WORKER=off: this instance handles no commands; other instances must', {
    component: 'commands',
  });
  const idle = { close: async () => {} };
  return { worker: idle, jobs: idle };
}
