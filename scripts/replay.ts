/**
 * `npm run replay -- <projection>` rebuilds a projection from the start of the global log into a
 * new generation while instances keep serving the current one, then swaps it in atomically and
 * deletes the old one. With PARTITIONS > 1 it does so partition by partition (each partition has
 * its own generation, switched when that partition is caught up; queries never fail meanwhile),
 * with a progress line per partition. Reads the same configuration as `npm start` (REDIS_URL,
 * REDIS_CLUSTER_NODES, KEY_PREFIX, PARTITIONS…).
 */
import { hostname } from 'node:os';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import {
  PROJECTION_NAMES,
  type Projection,
  type ProjectionPartition,
  projectionNamed,
} from '../src/projections/index.js';
import { rebuild } from '../src/projections/rebuild.js';
import { openArchive } from '../src/wiring/archive.js';
import { type Backend, openBackend } from '../src/wiring/backend.js';
import { ProgressLine } from './lib/progress.js';
import { runScript } from './lib/run-script.js';

const usage = `usage: npm run replay -- <projection>   (one of: ${PROJECTION_NAMES.join(', ')})`;

async function run(): Promise<number> {
  const name = process.argv[2];
  if (!name || name.startsWith('-')) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const config = loadConfig();
  const projection = projectionNamed(name, config);
  if (config.STORE !== 'redis') {
    process.stderr.write('replay rebuilds a read model in Redis: set REDIS_URL as for npm start\n');
    return 2;
  }
  const owner = `replay-${hostname()}-${process.pid}`;
  const logger = createLogger({ level: 'error', serverId: owner });
  // with ARCHIVE_URL the rebuild reads what retention trimmed from Redis in the archive
  const archive = openArchive(config, logger);
  const backend = openBackend(config, logger, archive ? { archive } : {});
  try {
    for (const partition of backend.projections) {
      await replayPartition(partition, backend, projection, owner, config.LEASE_TTL_MS);
    }
    return 0;
  } finally {
    await backend.close();
  }
}

/** Rebuilds one partition of `projection` to its swap, with its progress line and summary. */
async function replayPartition(
  { partition, events, store }: ProjectionPartition,
  backend: Backend,
  projection: Projection,
  owner: string,
  leaseTtlMs: number,
): Promise<void> {
  const several = backend.partitioning.count > 1;
  const label = several
    ? `${projection.name} partition ${partition + 1}/${backend.partitioning.count}`
    : projection.name;
  const total = await backend.redis!.xlen(backend.partitioning.keys[partition]!.all);
  const progress = new ProgressLine(label, total);
  let phase = '';
  const result = await rebuild({
    events,
    store,
    projection,
    owner,
    leaseTtlMs,
    onProgress: (p) => {
      if (p.phase !== phase && p.phase === 'last stretch') {
        progress.update(p.events, true);
        process.stderr.write(`\n${label}: took the lease for the last stretch\n`);
      }
      phase = p.phase;
      progress.update(p.events);
    },
  });
  const where = several ? `${projection.name} partition ${partition}` : projection.name;
  progress.finish(
    result.events,
    `${where}: generation ${result.generation} replaced ${result.replaced} at ${result.checkpoint}; ${result.events} events at ${Math.round(progress.rate(result.events))} events/s; ${result.dropped} old keys deleted`,
  );
}

await runScript('replay', run);
