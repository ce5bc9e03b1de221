/**
 * `npm run dead -- list [limit]` shows the dead-lettered commands; `npm run dead -- redrive
 * <userId> <commandId>` sends one again under the same id (a command id names one command of one
 * user). Reads the same configuration as `npm start` (REDIS_URL, KEY_PREFIX, SECRET_KEY…). With
 * PARTITIONS > 1 both look in every partition (the command id and user are enough): `list` merges
 * the partitions' newest dead letters, `redrive` finds the partition that holds the command.
 */

import { loadConfig } from '../src/config.js';
import { ConfigError, NotFoundError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { openBackend } from '../src/wiring/backend.js';

const [verb, arg, commandId] = process.argv.slice(2);
const usage = 'usage: npm run dead -- list [limit] | npm run dead -- redrive <userId> <commandId>';

async function run(): Promise<number> {
  if (verb !== 'list' && verb !== 'redrive') {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const config = loadConfig();
  if (config.STORE !== 'redis') {
    process.stderr.write(
      'dead letters live in Redis: set REDIS_URL (and SECRET_KEY) as for npm start\n',
    );
    return 2;
  }
  const backend = openBackend(
    config,
    createLogger({ level: 'error', serverId: `dead-cli-${process.pid}` }),
  );
  try {
    if (verb === 'list') {
      const letters = await backend.bus.deadLetters(Number(arg ?? 100));
      if (letters.length === 0) process.stdout.write('no dead-lettered commands\n');
      for (const d of letters) {
        process.stdout.write(
          `${d.at}  ${d.command.id}  ${d.command.type}  attempts ${d.attempts}  user ${d.command.metadata.userId}\n    ${d.error}\n`,
        );
      }
      return 0;
    }
    if (!arg || !commandId) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    await backend.bus.redrive(arg, commandId);
    process.stdout.write(`sent ${arg}'s ${commandId} again; follow it with command.status\n`);
    return 0;
  } catch (error) {
    if (error instanceof NotFoundError) {
      process.stderr.write(
        `no dead-lettered command ${commandId} of ${arg} (npm run dead -- list shows them)\n`,
      );
      return 1;
    }
    throw error;
  } finally {
    await backend.close();
  }
}

try {
  process.exitCode = await run();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
