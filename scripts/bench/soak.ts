/**
 * `soak` (BENCH.md): `trainer.move` at a steady 1 000/s for 10 minutes (`--minutes N`) on two
 * deployments side by side in the same run, each with its own redis-server and one instance:
 * "retention" archives to PostgreSQL (`ARCHIVE_URL`) and trims Redis (`LOG_RETENTION_MS`),
 * "none" keeps everything in Redis. Redis `used_memory` of both is sampled every 5 s; the figure is
 * each one's growth over the last 5 minutes (half the run when shorter), as the least-squares slope
 * over that window times its length (the trimmer frees memory in steps, so two endpoints are
 * noisy). Writes bench/results/soak.json and both curves to bench/results/soak.png. Then the
 * archive's throughput against a bare multi-row INSERT of the same rows (archive helper's function).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FaultSwitch, keysFor, RedisCommandBus, silentLogger } from '../../src/index.js';
import {
  createTestDatabase,
  stopSharedPostgres,
  type TestDatabase,
  testPostgresUrl,
} from '../../test/support/postgres.js';
import { type AppProcess, startApp } from '../lib/app-process.js';
import { type RedisServer, startRedisServer } from '../lib/redis-server.js';
import { archiveThroughput } from './archive-throughput.js';
import {
  environment,
  loadAverages,
  moveCommand,
  progress,
  RESULTS_DIR,
  redisVersion,
  writeResult,
} from './lib.js';
import { linePlot } from './png.js';
import { openSoakArchive } from './soak-archive.js';

/** Few enough that each trainer is snapshotted every few seconds, so entity tails are steady early. */
const TRAINERS = 100;
const SAMPLE_MS = 5000;
/** Most commands in flight per side; past it the side falls behind (counted, and it fails). */
const MAX_IN_FLIGHT = 2000;
const PREFIX = 'soak';
/** Same on both sides: command ids are remembered this long (see `notes`). */
const DEDUP_TTL_S = 60;
const RETENTION_MS = 30_000;
/**
 * Same on both sides: notifications are capped by NOTIFY_RETENTION whatever the retention of the
 * log; at the default (100 000) and the ~150 moves/s a shared machine reaches, the cap comes only
 * after ~11 minutes, so its growth would sit in the window on both sides.
 */
const NOTIFY_RETENTION = 10_000;
const ARCHIVE_ROWS = 50_000;

export interface SoakOptions {
  readonly minutes: number;
  readonly rate: number;
}

interface Sample {
  readonly atS: number;
  readonly usedMemory: number;
  readonly logLength: number;
  /** Moves answered so far. */
  readonly handled: number;
}

interface Side {
  readonly name: 'retention' | 'none';
  readonly server: RedisServer;
  readonly redis: Redis;
  readonly app: AppProcess;
  readonly bus: RedisCommandBus;
  readonly samples: Sample[];
  issued: number;
  handled: number;
  failed: number;
  firstFailure?: string;
  inFlight: number;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
}

async function startSide(name: Side['name'], env: Record<string, string>): Promise<Side> {
  const server = await startRedisServer();
  const app = await startApp({
    REDIS_URL: server.url,
    SECRET_KEY: randomBytes(32).toString('base64'),
    KEY_PREFIX: PREFIX,
    SERVER_ID: `soak-${name}`,
    LOG_LEVEL: 'info',
    COMMAND_DEDUP_TTL_S: String(DEDUP_TTL_S),
    NOTIFY_RETENTION: String(NOTIFY_RETENTION),
    ...env,
  });
  await app.waitForLine(/listening/, 30_000);
  const redis = new Redis(server.url);
  const bus = new RedisCommandBus(redis, keysFor(PREFIX), {
    serverId: `soak-sender-${name}`,
    timeoutMs: 60_000,
    backlogMax: 1_000_000,
    graceMs: 0,
    concurrency: 1,
    claimIdleMs: 5000,
    handlerDeadlineMs: 30_000,
    maxAttempts: 3,
    dedupTtlS: DEDUP_TTL_S,
    fault: FaultSwitch.from(undefined, silentLogger),
    logger: silentLogger,
  });
  await bus.start();
  return {
    name,
    server,
    redis,
    app,
    bus,
    samples: [],
    issued: 0,
    handled: 0,
    failed: 0,
    inFlight: 0,
  };
}

async function stopSide(side: Side): Promise<void> {
  await side.bus.close();
  side.redis.disconnect();
  await side.app.stop('SIGTERM');
  await side.server.stop();
}

/** Sends one move and counts its answer. */
async function sendMove(side: Side, i: number): Promise<void> {
  side.inFlight += 1;
  try {
    const sent = await side.bus.send(moveCommand(i, TRAINERS));
    if (sent.status === 'handled' && sent.outcome.kind === 'appended') side.handled += 1;
    else failure(side, JSON.stringify(sent).slice(0, 200));
  } catch (error) {
    failure(side, String(error));
  } finally {
    side.inFlight -= 1;
  }
}

/** Throws unless every move sent was handled; says so when the side fell behind the open loop. */
function checkDone(side: Side, seconds: number, rate: number): void {
  if (side.failed > 0 || side.handled !== side.issued) {
    throw new Error(
      `soak ${side.name}: work not done: ${side.issued} sent, ${side.handled} handled, ${side.failed} failed (first: ${side.firstFailure})`,
    );
  }
  const due = Math.round(rate * seconds);
  if (side.issued < due * 0.95) {
    progress(
      `note: ${side.name} fell behind: ${side.issued} of ${due} moves due were sent (at most ${MAX_IN_FLIGHT} unanswered), ${Math.round(side.issued / seconds)}/s`,
    );
  }
}

function failure(side: Side, what: string): void {
  side.failed += 1;
  side.firstFailure ??= what;
}

/**
 * Open loop: every 20 ms each side gets the moves due by then at `rate`/s (none while it has
 * `MAX_IN_FLIGHT` unanswered: those are counted as behind, and fail the run). Samples memory.
 */
async function drive(sides: readonly Side[], options: SoakOptions): Promise<number> {
  const started = performance.now();
  const endMs = options.minutes * 60_000;
  const inFlight = new Set<Promise<void>>();
  let nextSample = 0;
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= nextSample) {
      nextSample += SAMPLE_MS;
      await Promise.all(sides.map((s) => sample(s, elapsed / 1000)));
      if (sides[0]!.samples.length % 12 === 1) report(sides, elapsed);
    }
    if (elapsed >= endMs) break;
    const due = Math.floor((elapsed / 1000) * options.rate);
    for (const side of sides) {
      while (side.issued < due && side.inFlight < MAX_IN_FLIGHT) {
        const sent = sendMove(side, side.issued++);
        inFlight.add(sent);
        void sent.then(() => inFlight.delete(sent));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  return seconds;
}

async function sample(side: Side, atS: number): Promise<void> {
  const [memory, logLength] = await Promise.all([
    usedMemory(side.redis),
    side.redis.xlen(keysFor(PREFIX).all),
  ]);
  side.samples.push({ atS, usedMemory: memory, logLength, handled: side.handled });
}

function report(sides: readonly Side[], elapsedMs: number): void {
  const parts = sides.map((s) => {
    const last = s.samples.at(-1)!;
    return `${s.name}: ${s.handled} handled, used_memory ${mb(last.usedMemory)} MB, log ${last.logLength}`;
  });
  progress(`${(elapsedMs / 60_000).toFixed(1)} min  ${parts.join('  |  ')}`);
}

/** Growth of used_memory over the samples at or after `fromS`: slope × window, and endpoints. */
export function growthOver(
  samples: readonly Sample[],
  fromS: number,
): {
  slopeBytes: number;
  endpointBytes: number;
  windowS: number;
  movesInWindow: number;
  bytesPerMove: number;
} {
  const window = samples.filter((s) => s.atS >= fromS);
  if (window.length < 2) throw new Error('soak: fewer than 2 memory samples in the window');
  const xs = window.map((s) => s.atS);
  const ys = window.map((s) => s.usedMemory);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  const windowS = xs.at(-1)! - xs[0]!;
  const slopeBytes = Math.round((num / den) * windowS);
  const movesInWindow = window.at(-1)!.handled - window[0]!.handled;
  return {
    slopeBytes,
    endpointBytes: ys.at(-1)! - ys[0]!,
    windowS: Math.round(windowS),
    movesInWindow,
    bytesPerMove: movesInWindow > 0 ? Math.round(slopeBytes / movesInWindow) : Number.NaN,
  };
}

/** Waits until the archive holds the whole log of the retention side, and counts both. */
async function archiveCaughtUp(
  side: Side,
  archiveUrl: string,
): Promise<{ archived: number; logged: number }> {
  const archive = await openSoakArchive(archiveUrl);
  try {
    const info = (await side.redis.call('XINFO', 'STREAM', keysFor(PREFIX).all)) as unknown[];
    const field = (name: string) => String(info[info.indexOf(name) + 1]);
    const last = field('last-generated-id');
    const logged = Number(field('entries-added'));
    const deadline = Date.now() + 120_000;
    while ((await archive.archivedUpTo()) !== last) {
      if (Date.now() > deadline)
        throw new Error(`soak: archive not at ${last} 2 minutes after the load`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { archived: await archive.count(), logged };
  } finally {
    await archive.close();
  }
}

function plot(sides: readonly Side[]): string {
  const path = join(RESULTS_DIR, 'soak.png');
  const colours = { retention: [30, 90, 200], none: [210, 50, 40] } as const;
  const labels = { retention: 'on', none: 'off' } as const;
  writeFileSync(
    path,
    linePlot(
      sides.map((s) => ({
        label: labels[s.name],
        colour: colours[s.name],
        points: s.samples.map((p) => [p.atS / 60, p.usedMemory / 2 ** 20] as const),
      })),
      { xLabel: 'min', yLabel: 'MB' },
    ),
  );
  return path;
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Runs the soak and writes bench/results/soak.json and soak.png. */
export async function benchSoak(options: SoakOptions): Promise<void> {
  const server = await testPostgresUrl();
  if (!server)
    throw new Error('soak: no PostgreSQL (set TEST_POSTGRES_URL, or install postgresql)');
  try {
    await soakOn(server, options);
  } finally {
    await stopSharedPostgres();
  }
}

async function soakOn(server: string, options: SoakOptions): Promise<void> {
  const startedIn = environment(redisVersion());
  const database: TestDatabase = await createTestDatabase('soak', server);
  const sides: Side[] = [];
  try {
    sides.push(
      await startSide('retention', {
        ARCHIVE_URL: database.url,
        LOG_RETENTION_MS: String(RETENTION_MS),
      }),
      await startSide('none', {}),
    );
    progress(
      `${options.minutes} min at ${options.rate} trainer.move/s on each side, ${TRAINERS} trainers; retention: ARCHIVE_URL + LOG_RETENTION_MS=${RETENTION_MS}; none: neither`,
    );
    const seconds = await drive(sides, options);
    for (const side of sides) checkDone(side, seconds, options.rate);
    const [retention, none] = sides as [Side, Side];
    const counts = await archiveCaughtUp(retention, database.url);
    if (counts.archived !== counts.logged || counts.logged !== retention.handled) {
      throw new Error(
        `soak: ${counts.archived} events archived, ${counts.logged} logged, ${retention.handled} moves handled`,
      );
    }
    const windowMin = Math.min(5, options.minutes / 2);
    const fromS = seconds - windowMin * 60;
    const ours = growthOver(retention.samples, fromS);
    const base = growthOver(none.samples, fromS);
    const measured = await archiveThroughput(server, ARCHIVE_ROWS);
    const throughput = {
      ...measured,
      archiveRowsPerS: Math.round(measured.archiveRowsPerS),
      bareInsertRowsPerS: Math.round(measured.bareInsertRowsPerS),
      ratio: Math.round(measured.ratio * 100) / 100,
    };
    const png = plot(sides);
    const ratio = Math.round((ours.slopeBytes / base.slopeBytes) * 1000) / 1000;
    progress(
      `used_memory growth over the last ${windowMin} min: retention ${mb(ours.slopeBytes)} MB (${ours.bytesPerMove} B/move), none ${mb(base.slopeBytes)} MB (${base.bytesPerMove} B/move), ratio ${ratio}; archive ${throughput.archiveRowsPerS} rows/s vs bare INSERT ${throughput.bareInsertRowsPerS} (ratio ${throughput.ratio}); plot ${png}`,
    );
    writeResult({
      name: 'soak',
      ...startedIn,
      loadAvgEnd: loadAverages(),
      params: {
        minutes: options.minutes,
        ratePerSide: options.rate,
        trainers: TRAINERS,
        windowMinutes: windowMin,
        sampleMs: SAMPLE_MS,
        logRetentionMs: RETENTION_MS,
        commandDedupTtlS: DEDUP_TTL_S,
        notifyRetention: NOTIFY_RETENTION,
        instancesPerSide: 1,
        archiveRows: ARCHIVE_ROWS,
      },
      ours: {
        figure: ours.slopeBytes,
        unit: 'bytes of used_memory growth over the window',
        ...ours,
        moves: retention.handled,
        achievedRate: Math.round(retention.handled / seconds),
        archived: counts.archived,
        logLengthAtEnd: retention.samples.at(-1)!.logLength,
        usedMemoryAtEnd: retention.samples.at(-1)!.usedMemory,
        archive: throughput,
        curve: retention.samples,
      },
      baseline: {
        name: 'the same load without archive or retention, same run',
        figure: base.slopeBytes,
        ...base,
        moves: none.handled,
        achievedRate: Math.round(none.handled / seconds),
        logLengthAtEnd: none.samples.at(-1)!.logLength,
        usedMemoryAtEnd: none.samples.at(-1)!.usedMemory,
        curve: none.samples,
      },
      ratio,
      target: 'ratio < 0.05; archive ratio >= 0.5',
      notes: `both sides remember command ids for ${DEDUP_TTL_S} s (COMMAND_DEDUP_TTL_S) and keep ${NOTIFY_RETENTION} notifications (NOTIFY_RETENTION), so both are at a steady size in the window; at the default 24 h they grow by the per-id cost × rate on both sides. Plot: ${png.split('/').at(-1)} (blue "on": archive + retention; red "off": none)`,
    });
  } finally {
    for (const side of sides) await stopSide(side);
    await database.drop();
  }
}
