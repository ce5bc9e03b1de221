/**
 * `commands` (BENCH.md): 20 000 trainer.move commands through CommandBus.send({wait: true}), 256 in
 * flight, served by 2 instance processes (handled, events appended, notifications written, replies
 * received), against BullMQ: the same payloads added with addBulk and processed by 2 worker
 * processes doing nothing, concurrency 128 each. One private redis-server, alternating rounds.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { FaultSwitch, keysFor, RedisCommandBus, silentLogger } from '../../src/index.js';
import { type AppProcess, startApp } from '../lib/app-process.js';
import { startRedisServer } from '../lib/redis-server.js';
import {
  alternate,
  cpuMeter,
  environment,
  movePayload,
  processesCpuMeter,
  progress,
  type Round,
  redisVersion,
  sendMoves,
  summarise,
  writeResult,
} from './lib.js';
import { startOtlpSink } from './otlp-sink.js';

const IN_FLIGHT = 256;
const TRAINERS = 1000;
const WORKERS = 2;

/**
 * One round of ours; `otlp` (an endpoint) turns tracing on in the instances, sampling every
 * trace; `label` keeps each round's keys apart.
 */
async function oursRound(url: string, label: string, total: number, otlp?: string): Promise<Round> {
  const round = label;
  const prefix = `cmd${label}`;
  const secret = randomBytes(32).toString('base64');
  const instances: AppProcess[] = await Promise.all(
    Array.from({ length: WORKERS }, (_, w) =>
      startApp({
        REDIS_URL: url,
        SECRET_KEY: secret,
        KEY_PREFIX: prefix,
        SERVER_ID: `bench-${round}-${w}`,
        LOG_LEVEL: 'info',
        // COMMAND_BATCH_MAX=<n> npm run bench -- commands: the batch size this run measures
        COMMAND_BATCH_MAX: process.env.COMMAND_BATCH_MAX,
        ...(otlp ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_TRACES_SAMPLER: 'always_on' } : {}),
      }),
    ),
  );
  // with tracing on the SDK's modules load first: seconds more on a busy machine
  await Promise.all(instances.map((p) => p.waitForLine(/listening/, 120_000)));
  const redis = new Redis(url);
  const keys = keysFor(prefix);
  const bus = new RedisCommandBus(redis, keys, {
    serverId: `bench-sender-${round}`,
    timeoutMs: 60_000,
    backlogMax: 1_000_000,
    graceMs: 0,
    concurrency: 1,
    claimIdleMs: 5000,
    handlerDeadlineMs: 30_000,
    maxAttempts: 3,
    dedupTtlS: 3600,
    fault: FaultSwitch.from(undefined, silentLogger),
    logger: silentLogger,
  });
  await bus.start();
  try {
    const cpu = await cpuMeter(redis);
    const workersCpu = processesCpuMeter(instances.map((p) => p.pid));
    const started = performance.now();
    const failed = await sendMoves((command) => bus.send(command), total, IN_FLIGHT, TRAINERS);
    const seconds = (performance.now() - started) / 1000;
    const events = await redis.xlen(keys.all);
    const notifications = await redis.xlen(keys.notify);
    if (failed > 0 || events !== total || notifications < Math.min(total, 100_000)) {
      throw new Error(
        `work not done: ${failed} failed, ${events} events, ${notifications} notifications for ${total} commands`,
      );
    }
    const cpuUs = { ...(await cpu.per(total)), workers: workersCpu.per(total) };
    return { rate: total / seconds, cpuUs };
  } finally {
    await bus.close();
    redis.disconnect();
    await Promise.all(instances.map((p) => p.stop('SIGTERM')));
  }
}

function startBullWorker(url: string, queue: string): Promise<{ stop(): void; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./bullmq-worker.ts', import.meta.url).pathname,
        url,
        queue,
        '128',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout.on('data', (chunk) => {
      if (String(chunk).includes('ready')) {
        resolve({ stop: () => child.kill('SIGKILL'), pid: child.pid ?? 0 });
      }
    });
    child.once('exit', (code) => reject(new Error(`bullmq worker exited with ${code}`)));
  });
}

async function bullRound(url: string, round: number, total: number): Promise<Round> {
  const name = `bench${round}`;
  const { hostname, port } = new URL(url);
  const queue = new Queue(name, { connection: { host: hostname, port: Number(port) } });
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, () => startBullWorker(url, name)),
  );
  const meter = new Redis(url);
  try {
    const cpu = await cpuMeter(meter);
    const workersCpu = processesCpuMeter(workers.map((w) => w.pid));
    const started = performance.now();
    for (let i = 0; i < total; i += 1000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1000, total - i) }, (_, k) => ({
          name: 'MoveTrainer',
          data: { id: randomUUID(), ...movePayload(i + k, TRAINERS) },
        })),
      );
    }
    for (;;) {
      const counts = await queue.getJobCounts('completed', 'failed');
      if ((counts.failed ?? 0) > 0) throw new Error(`${counts.failed} BullMQ jobs failed`);
      if ((counts.completed ?? 0) >= total) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const rate = total / ((performance.now() - started) / 1000);
    return { rate, cpuUs: { ...(await cpu.per(total)), workers: workersCpu.per(total) } };
  } finally {
    meter.disconnect();
    for (const worker of workers) worker.stop();
    await queue.close();
  }
}

/**
 * Issue 16: the same rounds with tracing off and on (every trace sampled, exported over
 * http/protobuf to a local receiver that drops them), alternating; writes
 * bench/results/tracing.json and fails if no span was exported.
 */
async function benchTracing(url: string, options: { rounds: number; total: number }) {
  const sink = await startOtlpSink();
  try {
    progress('tracing: off (baseline) against on (always_on, OTLP http/protobuf to a local sink)');
    const { ours, baseline } = await alternate(
      options.rounds,
      {
        baseline: (i) => oursRound(url, `off${i}`, options.total),
        ours: (i) => oursRound(url, `on${i}`, options.total, sink.url),
      },
      'commands/s',
    );
    const { spans, requests, bytes } = sink.received;
    if (spans === 0) throw new Error('tracing on exported no spans');
    const on = summarise(ours);
    const off = summarise(baseline);
    const commands = options.rounds * options.total;
    writeResult({
      name: 'tracing',
      ...environment(redisVersion()),
      params: {
        commands: options.total,
        inFlight: IN_FLIGHT,
        workerProcesses: WORKERS,
        rounds: options.rounds,
      },
      ours: {
        figure: on.rate,
        unit: 'commands/s',
        ...on,
        sampler: 'always_on',
        exported: {
          spans,
          spansPerCommand: Math.round((spans / commands) * 100) / 100,
          requests,
          bytes,
        },
      },
      baseline: { name: 'the same with tracing off (no SDK loaded)', figure: off.rate, ...off },
      ratio: Math.round((on.rate / off.rate) * 100) / 100,
      target: 'ratio >= 0.8',
    });
  } finally {
    await sink.close();
  }
}

/** Runs the benchmark and writes bench/results/commands.json, then tracing.json. */
export async function benchCommands(options: { rounds: number; total: number }): Promise<void> {
  const server = await startRedisServer();
  try {
    progress(
      `${options.total} commands per round, ${IN_FLIGHT} in flight, ${WORKERS} worker processes`,
    );
    // BENCH_COMMANDS=tracing: only the tracing on/off rounds (the BullMQ ones take as long again)
    if (process.env.BENCH_COMMANDS !== 'tracing') await againstBullmq(server.url, options);
    await benchTracing(server.url, options);
  } finally {
    await server.stop();
  }
}

/** Ours against BullMQ, alternating; writes bench/results/commands.json. */
async function againstBullmq(url: string, options: { rounds: number; total: number }) {
  const { ours, baseline } = await alternate(
    options.rounds,
    {
      baseline: (i) => bullRound(url, i, options.total),
      ours: (i) => oursRound(url, String(i), options.total),
    },
    'commands/s',
  );
  const o = summarise(ours);
  const b = summarise(baseline);
  writeResult({
    name: 'commands',
    ...environment(redisVersion()),
    params: {
      commands: options.total,
      inFlight: IN_FLIGHT,
      trainers: TRAINERS,
      workerProcesses: WORKERS,
      rounds: options.rounds,
    },
    ours: { figure: o.rate, unit: 'commands/s', ...o },
    baseline: { name: 'BullMQ addBulk + 2 workers x 128 doing nothing', figure: b.rate, ...b },
    ratio: Math.round((o.rate / b.rate) * 100) / 100,
    target: 'ratio >= 2.0',
  });
}
