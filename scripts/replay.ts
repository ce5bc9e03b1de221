/**
 * `npm run replay -- <projection>` rebuilds a projection from the start of the global log into a
 * new generation while instances keep serving the current one, then swaps it in atomically and
 * deletes the old one. Reads the same configuration as `npm start` (REDIS_URL, KEY_PREFIX…).
 */
import { hostname } from 'node:os';
import { loadConfig } from '../src/config.js';
import { keysFor } from '../src/events/keys.js';
import { createLogger } from '../src/log.js';
import { PROJECTION_NAMES, projectionNamed } from '../src/projections/index.js';
import { rebuild } from '../src/projections/rebuild.js';
import { openBackend } from '../src/wiring/backend.js';
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
  const backend = openBackend(config, createLogger({ level: 'error', serverId: owner }));
  try {
    const total = await backend.redis!.xlen(keysFor(config.KEY_PREFIX).all);
    const progress = new ProgressLine(projection.name, total);
    let phase = '';
    const result = await rebuild({
      events: backend.store,
      store: backend.projections,
      projection,
      owner,
      leaseTtlMs: config.LEASE_TTL_MS,
      onProgress: (p) => {
        if (p.phase !== phase && p.phase === 'last stretch') {
          progress.update(p.events, true);
          process.stderr.write('\ntook the lease for the last stretch\n');
        }
        phase = p.phase;
        progress.update(p.events);
      },
    });
    progress.finish(
      result.events,
      `${projection.name}: generation ${result.generation} replaced ${result.replaced} at ${result.checkpoint}; ${result.events} events at ${Math.round(progress.rate(result.events))} events/s; ${result.dropped} old keys deleted`,
    );
    return 0;
  } finally {
    await backend.close();
  }
}

await runScript('replay', run);
