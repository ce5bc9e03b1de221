/**
 * Shared pieces of the benchmarks (BENCH.md): alternating rounds against a baseline in the same
 * run, medians, latency percentiles, the result file and the summary table.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/** Where results go (committed: the README quotes them). */
export const RESULTS_DIR = join(import.meta.dirname, '../../bench/results');

/** One measured round. */
export interface Round {
  readonly rate: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** What a benchmark writes to `bench/results/<name>.json`. */
export interface BenchResult {
  readonly name: string;
  readonly at: string;
  readonly node: string;
  readonly redis: string;
  readonly cores: number;
  readonly params: Record<string, unknown>;
  readonly ours: Record<string, unknown> & { readonly figure: number; readonly unit: string };
  readonly baseline: Record<string, unknown> & { readonly name: string; readonly figure: number };
  readonly ratio: number;
  readonly target: string;
  readonly notes?: string;
}

/** Prints one progress line (benchmarks are long jobs). */
export function progress(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

/** Median of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `q` quantile (0..1) of latencies. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `rounds` rounds of each, alternating baseline and ours, and returns both series. */
export async function alternate(
  rounds: number,
  run: { baseline: (i: number) => Promise<Round>; ours: (i: number) => Promise<Round> },
  unit: string,
): Promise<{ ours: Round[]; baseline: Round[] }> {
  const ours: Round[] = [];
  const baseline: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await run.baseline(i);
    baseline.push(b);
    progress(`round ${i + 1}/${rounds} baseline ${fmt(b.rate)} ${unit}${latency(b)}`);
    const o = await run.ours(i);
    ours.push(o);
    progress(`round ${i + 1}/${rounds} ours     ${fmt(o.rate)} ${unit}${latency(o)}`);
  }
  return { ours, baseline };
}

/** The medians of a series of rounds. */
export function summarise(rounds: readonly Round[]): {
  rate: number;
  p50Ms?: number;
  p99Ms?: number;
  rounds: number[];
} {
  const p50 = rounds.flatMap((r) => (r.p50Ms === undefined ? [] : [r.p50Ms]));
  const p99 = rounds.flatMap((r) => (r.p99Ms === undefined ? [] : [r.p99Ms]));
  return {
    rate: Math.round(median(rounds.map((r) => r.rate))),
    ...(p50.length ? { p50Ms: round2(median(p50)) } : {}),
    ...(p99.length ? { p99Ms: round2(median(p99)) } : {}),
    rounds: rounds.map((r) => Math.round(r.rate)),
  };
}

/** Environment facts every result records. */
export function environment(
  redisUrlVersion: string,
): Pick<BenchResult, 'at' | 'node' | 'redis' | 'cores'> {
  return {
    at: new Date().toISOString(),
    node: process.version,
    redis: redisUrlVersion,
    cores: cpus().length,
  };
}

/** The version of the redis-server binary. */
export function redisVersion(): string {
  const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** Writes the result file. */
export function writeResult(result: BenchResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

/** The table of every result file, as markdown. */
export function resultsTable(): string {
  const files = readdirSync(RESULTS_DIR).filter(
    (f) => f.endsWith('.json') && !f.endsWith('.tmp.json'),
  );
  const rows = files.map(
    (f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult,
  );
  const lines = [
    '| benchmark | streamcast | baseline | ratio | target | measured |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.ours.figure)} ${r.ours.unit}${latency(r.ours as { p50Ms?: number; p99Ms?: number })} | ${r.baseline.name}: ${fmt(r.baseline.figure)}${latency(r.baseline as { p50Ms?: number; p99Ms?: number })} | ${r.ratio.toFixed(2)} | ${r.target} | ${r.at.slice(0, 10)} |`,
    ),
  ];
  return lines.join('\n');
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function latency(r: { p50Ms?: number; p99Ms?: number }): string {
  return r.p50Ms === undefined
    ? ''
    : ` (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms?.toFixed(2)} ms)`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
