/**
 * `npm run bench` runs every benchmark of BENCH.md; `npm run bench -- <name> [--rounds N]
 * [--per-round N]` runs one. Each starts its own redis-server, measures streamcast and its baseline
 * in the same run, writes bench/results/<name>.json; a table of all results is printed at the end.
 */
import { parseArgs } from 'node:util';
import { benchAppend } from './append.js';
import { benchCommands } from './commands.js';
import { resultsTable } from './lib.js';
import { benchRpc } from './rpc.js';

interface Options {
  readonly rounds: number;
  readonly perRound: number | undefined;
}

/** The registry: one line per benchmark. */
const BENCHMARKS: Record<string, (o: Options) => Promise<void>> = {
  append: (o) => benchAppend({ rounds: o.rounds, perRound: o.perRound ?? 20_000 }),
  commands: (o) => benchCommands({ rounds: Math.min(o.rounds, 3), total: o.perRound ?? 20_000 }),
  rpc: (o) => benchRpc({ rounds: Math.min(o.rounds, 3), seconds: 8 }),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '5' }, 'per-round': { type: 'string' } },
});
const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
const unknown = names.filter((n) => !BENCHMARKS[n]);
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}\n`,
  );
  process.exit(2);
}
const options: Options = {
  rounds: Number(values.rounds),
  perRound: values['per-round'] ? Number(values['per-round']) : undefined,
};
for (const name of names) {
  process.stdout.write(`\n${name}\n`);
  await BENCHMARKS[name]!(options);
}
process.stdout.write(`\n${resultsTable()}\n`);
