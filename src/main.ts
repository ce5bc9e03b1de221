/**
 * The composition root, read as a table of contents: the configuration, then each area's wiring
 * (`src/wiring/`): the store and the bus, operations, realtime, projections, the HTTP surface, and
 * — once the start-up checks pass — the command worker, deployment jobs and projectors. SIGTERM
 * and SIGINT stop everything in DESIGN.md §7's order.
 */
import { pathToFileURL } from 'node:url';
import { type Config, loadConfig } from './config.js';
import { COMMANDS } from './domain/catalogue.js';
import type { AnyCommandDefinition } from './domain/command-definition.js';
import { ConfigError } from './errors.js';
import { createLogger } from './log.js';
import { readinessDrainMs, sleepUntil } from './ops/index.js';
import type { LeasedFollower } from './projections/leased-follower.js';
import { startTracing } from './tracing/sdk.js';
import { archivePartsFor, openArchive } from './wiring/archive.js';
import { openBackend } from './wiring/backend.js';
import { type CommandWork, serveCommands } from './wiring/commands.js';
import { notifierPartsFor } from './wiring/eventstoredb.js';
import { serveHttp } from './wiring/http.js';
import { operationsFor } from './wiring/operations.js';
import { projectionPartsFor } from './wiring/projections.js';
import { realtimeFor } from './wiring/realtime.js';
import { secretBoxFor } from './wiring/secrets.js';
import { type Retention, startRetention } from './wiring/tiers.js';

/** The configuration, or exit 1 with one line per problem. */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`streamcast cannot start: ${error.message}\n`);
    process.exit(1);
  }
}

/** Runs an instance serving `commands` (the catalogue; tests add toy commands to it). */
export async function main(commands: readonly AnyCommandDefinition[] = COMMANDS): Promise<void> {
  const config = configOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, serverId: config.SERVER_ID });
  const stopTracing = config.TRACING && (await startTracing(config.TRACING, logger));
  const eventArchive = openArchive(config, logger);
  const backend = openBackend(config, logger, eventArchive ? { archive: eventArchive } : {});
  const secretBox = secretBoxFor(config, logger);
  const ops = operationsFor(config, backend, secretBox.keyId, logger);
  const realtime = realtimeFor(config, backend, logger);
  const projections = projectionPartsFor(config, backend, ops.metrics, logger);
  const archive = archivePartsFor(config, backend, ops.metrics, logger);
  const notifier = notifierPartsFor(backend, ops.metrics);
  let work: CommandWork | undefined;
  let projectors: LeasedFollower[] = [];
  let retention: Retention | undefined;
  const http = serveHttp({
    commands,
    config,
    backend,
    secretBox,
    realtime,
    readModels: projections.readModels,
    ...(archive ? { archiveStatus: archive.status } : {}),
    ...(notifier ? { notifierStatus: notifier.status } : {}),
    readiness: ops.readiness(() => work !== undefined),
    metrics: ops.metrics,
    logger,
  });

  const drainMs = readinessDrainMs(config.SHUTDOWN_GRACE_MS);
  ops.shutdown
    .add({
      name: `answer /readyz with 503 for ${drainMs} ms so load balancers move away`,
      run: (deadline) => sleepUntil(drainMs, deadline),
    })
    .add({
      // before the HTTP drain, which would otherwise wait for these endless responses
      name: 'close SSE sessions with a jittered retry so clients move to other instances',
      run: async () => {
        await realtime.realtime.close();
        await realtime.feed.close();
      },
    })
    .add({
      name: 'stop accepting connections; answer the requests in flight',
      run: (deadline) => http.drain.close(http.server, deadline),
    })
    .add({
      name: 'stop reading commands and deployment jobs; finish or release those in flight',
      run: async (deadline) => {
        const graceMs = Math.max(deadline - Date.now(), 0);
        await Promise.all([work?.worker.close(graceMs), work?.jobs.close(0)]);
      },
    })
    .add({
      name: 'give up projection and archiver leases',
      run: async () => {
        await Promise.all(projectors.map((p) => p.close()));
      },
    })
    .add({ name: 'stop retention', run: async () => retention?.close() })
    .add({ name: 'leave the instance registry', run: async () => ops.registry?.leave() })
    .add({ name: 'close the store and Redis', run: () => backend.close() })
    .add({ name: 'export the spans still held', run: async () => stopTracing?.() });
  const starting = new AbortController();
  const stop = (signal: string) => {
    starting.abort(new Error(`${signal} during start-up`));
    void ops.shutdown.begin(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  if (!(await ops.passStartupChecks(starting.signal)) || ops.shutdown.started) return;
  await realtime.realtime.start();
  ops.logWatch.start();
  work = await serveCommands(
    commands,
    config,
    backend,
    secretBox,
    realtime.store,
    ops.metrics,
    logger,
  );
  projectors = [
    ...projections.start(),
    ...(archive?.start() ?? []),
    ...(notifier ? [notifier.start()] : []),
  ];
  // entity streams are trimmed below their newest snapshot (none with SNAPSHOT_EVERY=0)
  const snapshots = config.SNAPSHOT_EVERY > 0 ? backend.snapshots : undefined;
  retention = startRetention(config, backend, logger, snapshots);
}

// run when started as a program (`npm start`), not when imported
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
