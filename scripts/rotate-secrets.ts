/**
 * `npm run rotate-secrets [-- --batch N --rate N]` re-seals every stored connection secret under
 * the current SECRET_KEY (README "Rotating SECRET_KEY"). Reads the same configuration as `npm
 * start` (REDIS_URL, KEY_PREFIX, SECRET_KEY, SECRET_KEY_PREVIOUS). Refuses to start while a live
 * instance seals under another key. Resumable: run it again after a failure or a kill; a run that
 * finds nothing left prints "re-sealed 0". Exit 1 when some secret opens under none of the keys
 * (listed by connection id; left as it was), 2 for bad usage or a refusal.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { instancesOnOtherKeys, rotateSecrets } from '../src/connections/rotate-secrets.js';
import type { SecretStore } from '../src/connections/secret-store.js';
import { keysFor } from '../src/events/keys.js';
import { createLogger } from '../src/log.js';
import { InstanceRegistry } from '../src/ops/instance-registry.js';
import { openBackend } from '../src/wiring/backend.js';
import { secretBoxFor } from '../src/wiring/secrets.js';
import { ProgressLine } from './lib/progress.js';
import { runScript } from './lib/run-script.js';

const usage =
  'usage: npm run rotate-secrets -- [--batch N (ids per page, default 100)] [--rate N (re-seals per second, default 0: no limit)]';

/** A positive integer option (0 allowed with `zero`), or undefined when it is not one. */
function count(text: string, zero: boolean): number | undefined {
  const n = Number(text);
  return /^[0-9]+$/.test(text) && (n > 0 || zero) ? n : undefined;
}

/** How many secrets are stored now (for the progress line only). */
async function countSecrets(store: SecretStore, batch: number): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const page = await store.scan(cursor, batch * 10);
    total += page.connectionIds.length;
    cursor = page.cursor;
  } while (cursor !== '0');
  return total;
}

async function run(): Promise<number> {
  const { values } = parseArgs({
    options: { batch: { type: 'string', default: '100' }, rate: { type: 'string', default: '0' } },
  });
  const batch = count(values.batch, false);
  const ratePerS = count(values.rate, true);
  if (batch === undefined || ratePerS === undefined) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const config = loadConfig();
  if (config.STORE !== 'redis') {
    process.stderr.write(
      'rotate-secrets re-seals secrets in Redis: set REDIS_URL as for npm start\n',
    );
    return 2;
  }
  const logger = createLogger({ level: 'error', serverId: 'rotate-secrets' });
  const box = secretBoxFor(config, logger);
  const backend = openBackend(config, logger);
  try {
    const live = await InstanceRegistry.liveEntries(backend.redis!, keysFor(config.KEY_PREFIX));
    const others = instancesOnOtherKeys(live, box.keyId);
    if (others.length > 0) {
      process.stderr.write(
        `rotate-secrets refused: live instances seal under another key than SECRET_KEY (key ${box.keyId}): ${others.join(', ')}; give every instance SECRET_KEY=<new> with the old key in SECRET_KEY_PREVIOUS first\n`,
      );
      return 2;
    }
    const progress = new ProgressLine('secrets', await countSecrets(backend.secrets, batch));
    const counts = await rotateSecrets({
      store: backend.secrets,
      box,
      batch,
      ratePerS,
      onProgress: (c) => progress.update(c.scanned),
    });
    progress.finish(counts.scanned);
    for (const { connectionId, reason } of counts.unreadable) {
      process.stderr.write(`left unchanged: ${connectionId}: ${reason}\n`);
    }
    process.stdout.write(
      `re-sealed ${counts.resealed} under key ${box.keyId}; ${counts.current} already under it, ${counts.gone} deleted meanwhile, ${counts.unreadable.length} unreadable (of ${counts.scanned} scanned)\n`,
    );
    return counts.unreadable.length > 0 ? 1 : 0;
  } finally {
    await backend.close();
  }
}

await runScript('rotate-secrets', run);
