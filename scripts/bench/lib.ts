/**
 * Shared pieces of the benchmarks (BENCH.md): a closed-loop driver with a fixed number of
 * operations in flight, alternating rounds against a baseline in the same run, medians, latency
 * percentiles, the result file and the summary table.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { SendResult } from '../../src/commands/command-bus.js';
import { trainerStreamId } from '../../src/domain/trainer/trainer.js';

/** Where results go (committed: the README quotes them). */
export const RESULTS_DIR = join(import.meta.dirname, '../../bench/results');

/** One measured round. */
export interface Round {
  readonly rate: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /**
   * CPU time per operation in microseconds: of this process, and of the benchmark's own
   * redis-server. Much less sensitive than rates to other load on a shared machine.
   */
  readonly cpuUs?: CpuPerOp;
}

/** CPU microseconds per operation (see `Round.cpuUs`). */
export interface CpuPerOp {
  readonly node: number;
  readonly redis: number;
  /** Of the benchmark's worker processes together (commands: the instances, or BullMQ's). */
  readonly workers?: number;
}

/** CPU time (user + system) a process used so far, in microseconds (from /proc; Linux). */
export function processCpuUs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // after "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), in clock ticks
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU microseconds the processes `pids` use per operation over a stretch of work. */
export function processesCpuMeter(pids: readonly number[]): { per(ops: number): number } {
  const total = () => pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
  const start = total();
  return { per: (ops) => Math.round(((total() - start) / ops) * 10) / 10 };
}

/** Measures CPU time of this process and of a private redis-server over some operations. */
export async function cpuMeter(redis: Redis): Promise<{ per(ops: number): Promise<CpuPerOp> }> {
  const redisCpu = async () => {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
  };
  const node0 = process.cpuUsage();
  const redis0 = await redisCpu();
  return {
    async per(ops) {
      const node = process.cpuUsage(node0);
      const redisUs = (await redisCpu()) - redis0;
      return {
        node: Math.round(((node.user + node.system) / ops) * 10) / 10,
        redis: Math.round((redisUs / ops) * 10) / 10,
      };
    },
  };
}

/** What a benchmark writes to `bench/results/<name>.json`. */
export interface BenchResult {
  readonly name: string;
  readonly at: string;
  readonly node: string;
  readonly redis: string;
  readonly cores: number;
  /** 1/5/15-minute load averages when the run started (the machines are shared). */
  readonly loadAvg?: readonly number[];
  /** The same when it ended. */
  readonly loadAvgEnd?: readonly number[];
  readonly params: Record<string, unknown>;
  readonly ours: Record<string, unknown> & { readonly figure: number; readonly unit: string };
  readonly baseline: Record<string, unknown> & { readonly name: string; readonly figure: number };
  /** ours / baseline of the medians: the figure compared over time. */
  readonly ratio: number;
  /** ours / baseline of each alternating pair, and their median (see `pairRatios`). */
  readonly pairRatios?: readonly number[];
  readonly pairRatioMedian?: number;
  readonly target: string;
  readonly notes?: string;
}

/** Prints one progress line (benchmarks are long jobs). */
export function progress(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

/** Median of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The `q` quantile (0..1) of latencies. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A round's operations that failed, by error class, with the first message of each. */
export class ErrorTally {
  private readonly counts = new Map<string, { count: number; first: string }>();
  total = 0;

  add(kind: string, message: string): void {
    this.total += 1;
    const seen = this.counts.get(kind);
    if (seen) seen.count += 1;
    else this.counts.set(kind, { count: 1, first: message });
  }

  addError(error: unknown): void {
    const kind = error instanceof Error ? error.constructor.name : typeof error;
    this.add(kind, error instanceof Error ? error.message : String(error));
  }

  /** Throws, listing every kind, when anything failed. */
  assertNone(what: string): void {
    if (this.total === 0) return;
    const kinds = [...this.counts].map(([k, v]) => `${v.count} × ${k} (first: ${v.first})`);
    throw new Error(`${what}: ${this.total} operations failed: ${kinds.join('; ')}`);
  }
}

/**
 * Runs `total` operations with `workers` concurrent loops, each starting its next operation as
 * soon as its previous one settles (so exactly `workers` are in flight). `op` gets the worker
 * index and that worker's own sequence number; a thrown error is tallied, never retried, and
 * the round goes on. Returns the rate over the whole round and per-operation latencies.
 */
export async function closedLoop(
  workers: number,
  total: number,
  op: (worker: number, seq: number) => Promise<void>,
): Promise<Round & { errors: ErrorTally; seconds: number }> {
  const errors = new ErrorTally();
  const latencies = new Float64Array(total);
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let seq = 0; issued < total; seq++) {
        const slot = issued++;
        const t = performance.now();
        try {
          await op(w, seq);
        } catch (error) {
          errors.addError(error);
        }
        latencies[slot] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  const at = (q: number) => latencies[Math.min(total - 1, Math.floor(q * total))] ?? Number.NaN;
  return { rate: total / seconds, p50Ms: at(0.5), p99Ms: at(0.99), errors, seconds };
}

/**
 * Runs `rounds` rounds of each, alternating baseline and ours (baseline, ours, baseline, …), and
 * returns both series. `warmup`, when given, runs once for each side first and is not counted
 * (lets the JIT and Redis settle so the first counted round is not an outlier).
 */
export async function alternate(
  rounds: number,
  run: {
    baseline: (i: number) => Promise<Round>;
    ours: (i: number) => Promise<Round>;
    warmup?: () => Promise<void>;
  },
  unit: string,
): Promise<{ ours: Round[]; baseline: Round[] }> {
  const ours: Round[] = [];
  const baseline: Round[] = [];
  if (run.warmup) {
    const t = performance.now();
    await run.warmup();
    progress(`warm-up done in ${((performance.now() - t) / 1000).toFixed(1)} s (not counted)`);
  }
  for (let i = 0; i < rounds; i++) {
    const b = await run.baseline(i);
    baseline.push(b);
    progress(`round ${i + 1}/${rounds} baseline ${fmt(b.rate)} ${unit}${latency(b)}${cpuText(b)}`);
    const o = await run.ours(i);
    ours.push(o);
    progress(
      `round ${i + 1}/${rounds} ours     ${fmt(o.rate)} ${unit}${latency(o)}${cpuText(o)}  ratio ${(o.rate / b.rate).toFixed(2)}`,
    );
  }
  return { ours, baseline };
}

/** The medians of a series of rounds. */
export function summarise(rounds: readonly Round[]): {
  rate: number;
  p50Ms?: number;
  p99Ms?: number;
  cpuUs?: CpuPerOp;
  rounds: number[];
} {
  const p50 = rounds.flatMap((r) => (r.p50Ms === undefined ? [] : [r.p50Ms]));
  const p99 = rounds.flatMap((r) => (r.p99Ms === undefined ? [] : [r.p99Ms]));
  const cpu = rounds.flatMap((r) => (r.cpuUs === undefined ? [] : [r.cpuUs]));
  return {
    rate: Math.round(median(rounds.map((r) => r.rate))),
    ...(p50.length ? { p50Ms: round2(median(p50)) } : {}),
    ...(p99.length ? { p99Ms: round2(median(p99)) } : {}),
    ...(cpu.length
      ? {
          cpuUs: {
            node: round1(median(cpu.map((c) => c.node))),
            redis: round1(median(cpu.map((c) => c.redis))),
            ...(cpu.every((c) => c.workers !== undefined)
              ? { workers: round1(median(cpu.map((c) => c.workers ?? 0))) }
              : {}),
          },
        }
      : {}),
    rounds: rounds.map((r) => Math.round(r.rate)),
  };
}

/** ours / baseline, two decimals. */
export function ratioOf(ours: number, baseline: number): number {
  return Math.round((ours / baseline) * 100) / 100;
}

/**
 * ours / baseline of each alternating pair, and their median: less sensitive than the ratio of
 * medians to load that drifts during the run (the machines are shared).
 */
export function pairRatios(
  ours: readonly Round[],
  baseline: readonly Round[],
): { pairRatios: number[]; pairRatioMedian: number } {
  const ratios = ours.map((o, i) => o.rate / (baseline[i]?.rate ?? Number.NaN));
  return {
    pairRatios: ratios.map((r) => Math.round(r * 100) / 100),
    pairRatioMedian: Math.round(median(ratios) * 100) / 100,
  };
}

/** Environment facts every result records. */
export function environment(
  redisVersionText: string,
): Pick<BenchResult, 'at' | 'node' | 'redis' | 'cores' | 'loadAvg'> {
  return {
    at: new Date().toISOString(),
    node: process.version,
    redis: redisVersionText,
    cores: cpus().length,
    loadAvg: loadAverages(),
  };
}

/** The 1/5/15-minute load averages, two decimals. */
export function loadAverages(): number[] {
  return loadavg().map((l) => round2(l));
}

/** Says so when other work is already keeping the machine's cores busy (figures will be noisy). */
export function warnIfBusy(): void {
  const [one = 0] = loadavg();
  const cores = cpus().length;
  if (one >= cores * 0.75) {
    progress(
      `note: load average ${one.toFixed(2)} on ${cores} cores before starting: other work is running, expect noisy figures`,
    );
  }
}

/** The version of the redis-server binary on PATH. */
export function redisVersion(): string {
  const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** The version the running server reports (`INFO server`). */
export async function runningRedisVersion(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
}

/** Writes the result file. */
export function writeResult(result: BenchResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${result.name}.json`), `${formatJson(result)}\n`);
}

/**
 * JSON with two-space indents and arrays of numbers or strings on one line when they fit in 100
 * columns, as `biome format` prints it (so the committed result files pass `biome check`).
 */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /^( *)(.*)\[\n((?: *(?:-?[\d.e+-]+|"(?:[^"\\]|\\.)*"),?\n)+) *\]/gm,
    (whole, indent: string, head: string, items: string) => {
      const line = `${indent}${head}[${items
        .split('\n')
        .map((item) => item.trim())
        .filter(Boolean)
        .join(' ')}]`;
      return line.length + 1 <= 100 ? line : whole;
    },
  );
}

/**
 * Whether a simple target (`ratio >= 0.9`, `ratio <= 2`) holds: 'yes', 'no', or '—' for targets
 * that are not a plain ratio comparison (they are judged by reading the result).
 */
export function targetMet(result: Pick<BenchResult, 'ratio' | 'target'>): string {
  const m = /^ratio\s*(>=|≥|<=|≤)\s*([\d.]+)$/.exec(result.target.trim());
  if (!m) return '—';
  const bound = Number(m[2]);
  const ok = m[1] === '>=' || m[1] === '≥' ? result.ratio >= bound : result.ratio <= bound;
  return ok ? 'yes' : 'no';
}

/** The table of every result file, as markdown. */
export function resultsTable(): string {
  const files = existsSync(RESULTS_DIR)
    ? readdirSync(RESULTS_DIR)
        .filter((f) => f.endsWith('.json') && !f.endsWith('.tmp.json'))
        .sort()
    : [];
  const lines = [
    '| benchmark | streamcast | baseline | ratio | target | met | at |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of files) {
    let r: BenchResult;
    try {
      r = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as BenchResult;
    } catch (error) {
      lines.push(`| ${f} | unreadable: ${(error as Error).message} | | | | | |`);
      continue;
    }
    lines.push(
      `| ${r.name} | ${fmt(r.ours.figure)} ${r.ours.unit}${latency(r.ours as LatencyFigures)} | ${r.baseline.name}: ${fmt(r.baseline.figure)}${latency(r.baseline as LatencyFigures)} | ${r.ratio.toFixed(2)} | ${r.target} | ${targetMet(r)} | ${r.at.slice(0, 16).replace('T', ' ')} |`,
    );
  }
  return lines.join('\n');
}

type LatencyFigures = { p50Ms?: number; p99Ms?: number };

/** A rate with thousands separators. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function latency(r: LatencyFigures): string {
  return r.p50Ms === undefined
    ? ''
    : ` (p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms?.toFixed(2)} ms)`;
}

function cpuText(r: Round): string {
  if (!r.cpuUs) return '';
  const workers = r.cpuUs.workers === undefined ? '' : ` workers ${r.cpuUs.workers}`;
  return `  cpu µs/op node ${r.cpuUs.node} redis ${r.cpuUs.redis}${workers}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The i-th MoveTrainer payload of a bench run, over `trainers` trainers. */
export function movePayload(i: number, trainers: number) {
  return {
    trainerId: `t${i % trainers}`,
    action: 'start' as const,
    direction: { x: Math.cos(i), y: Math.sin(i) || 1 },
  };
}

/** The i-th MoveTrainer command of a bench run, over `trainers` trainers, as a worker takes it. */
export function moveCommand(i: number, trainers: number) {
  const id = randomUUID();
  const data = movePayload(i, trainers);
  return {
    id,
    type: 'MoveTrainer',
    data,
    metadata: {
      commandId: id,
      userId: 'bench',
      correlationId: id,
      timestamp: new Date().toISOString(),
      // routes the command to its stream's partition, as CommandSender does
      streamId: trainerStreamId(data.trainerId),
    },
  };
}

/**
 * Sends `total` MoveTrainer commands through `send` with `inFlight` at a time and counts those not
 * answered with an append.
 */
export async function sendMoves(
  send: (command: ReturnType<typeof moveCommand>) => Promise<SendResult>,
  total: number,
  inFlight: number,
  trainers: number,
): Promise<number> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const sent = await send(moveCommand(next++, trainers));
        if (sent.status !== 'handled' || sent.outcome.kind !== 'appended') failed += 1;
      }
    }),
  );
  return failed;
}
