/**
 * `npm run bench` runs every benchmark of BENCH.md; `npm run bench -- <name>… [--rounds N]
 * [--per-round N] [--minutes N]` runs the named ones (`--minutes`: how long `soak` runs, default
 * 10; also `BENCH_ROUNDS` / `BENCH_PER_ROUND`;
 * `BENCH_APPEND_BASELINE=per-append` makes `append`'s baseline serialise each event as ours
 * does, instead of reusing prebuilt JSON). Each starts its own redis-server, measures streamcast
 * and its baseline in the same run and writes bench/results/<name>.json; a table of every result
 * file is printed at the end.
 */
import { parseArgs } from 'node:util';
import { type BaselineEnvelope, benchAppend } from './append.js';
import { benchCluster } from './cluster.js';
import { benchCommands } from './commands.js';
import { benchConsole } from './console.js';
import { benchFanout } from './fanout.js';
import { resultsTable } from './lib.js';
import { benchNotifyLatency } from './notify-latency.js';
import { benchReplay } from './replay.js';
import { benchRpc } from './rpc.js';
import { benchSoak } from './soak.js';

/** Options from the command line; `undefined` means the benchmark's own default. */
interface Options {
  readonly rounds: number | undefined;
  readonly perRound: number | undefined;
  /** `BENCH_APPEND_BASELINE`. */
  readonly appendBaseline: BaselineEnvelope | undefined;
  /** `--minutes` (soak). */
  readonly minutes: number | undefined;
}

/** The registry: one line per benchmark. */
const BENCHMARKS: Record<string, (o: Options) => Promise<void>> = {
  append: (o) =>
    benchAppend({
      rounds: o.rounds ?? 9,
      perRound: o.perRound ?? 20_000,
      baselineEnvelope: o.appendBaseline,
    }),
  commands: (o) => benchCommands({ rounds: o.rounds ?? 3, total: o.perRound ?? 20_000 }),
  rpc: (o) => benchRpc({ rounds: o.rounds ?? 3, seconds: 8 }),
  replay: (o) => benchReplay({ rounds: o.rounds ?? 3, events: o.perRound ?? 1_000_000 }),
  'notify-latency': (o) => benchNotifyLatency({ rounds: o.rounds ?? 5, perRound: o.perRound }),
  fanout: (o) => benchFanout({ rounds: o.rounds ?? 5, sessions: o.perRound }),
  cluster: (o) => benchCluster({ rounds: o.rounds ?? 3, total: o.perRound ?? 20_000 }),
  console: (o) => benchConsole({ rounds: o.rounds ?? 3, seconds: o.perRound ?? 25 }),
  soak: (o) => benchSoak({ minutes: o.minutes ?? 10, rate: 1000 }),
};

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench [-- <name>… [--rounds N] [--per-round N] [--minutes N]]\nbenchmarks: ${Object.keys(BENCHMARKS).join(', ')}\n`,
  );
  process.exit(2);
}

function count(flag: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) usage(`${flag} must be a positive integer, not ${text}`);
  return n;
}

function appendBaseline(text: string | undefined): BaselineEnvelope | undefined {
  if (text === undefined || text === '') return undefined;
  if (text === 'per-append' || text === 'prebuilt') return text;
  usage(`BENCH_APPEND_BASELINE must be per-append or prebuilt, not ${text}`);
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        rounds: { type: 'string' },
        'per-round': { type: 'string' },
        minutes: { type: 'string' },
      },
    });
  } catch (error) {
    usage((error as Error).message);
  }
}

const { values, positionals } = parseCommandLine();
const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
const unknown = names.filter((n) => !Object.hasOwn(BENCHMARKS, n));
if (unknown.length) usage(`unknown benchmark: ${unknown.join(', ')}`);
const options: Options = {
  rounds: count('--rounds', values.rounds ?? process.env.BENCH_ROUNDS),
  perRound: count('--per-round', values['per-round'] ?? process.env.BENCH_PER_ROUND),
  appendBaseline: appendBaseline(process.env.BENCH_APPEND_BASELINE),
  minutes: count('--minutes', values.minutes),
};
for (const name of names) {
  process.stdout.write(`\n${name}\n`);
  await BENCHMARKS[name]!(options);
}
process.stdout.write(`\n${resultsTable()}\n`);
