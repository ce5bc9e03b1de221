/**
 * `console` (BENCH.md): the console's field in headless Chromium (Debian's, driven by the pinned
 * playwright-core) with TRAINERS trainers while the server produces RATE position updates a
 * second. One instance on a private redis-server; this process sends `trainer.move` over
 * JSON-RPC from an absolute schedule (open loop), each to one of the trainers in turn (its own
 * user), so each answered move is one TrainerMoved event and one `position.update`.
 *
 * Each round opens a fresh page, signs in, opens the field and waits until it shows every
 * trainer; nothing is produced then, so the page's counters and the notification log's last id
 * mark the same moment. Then the load runs for SECONDS. Figures, all counted, none timed by
 * requestAnimationFrame ticks:
 * - produced: the `position.update` entries the server appended to its notification log after
 *   that id, and the rate they were produced at (first to last entry's Redis time, ≥ 20 s);
 * - applied: how many updates the page says it applied (its `updates-applied` counter) once the
 *   load stopped and the page caught up (or SETTLE_MS passed);
 * - frames/s: redraws with the latest state the page counted (`frames-drawn`) over the load.
 * No peer baseline exists for this one (BENCH.md): `ratio` is frames/s ÷ 60, a display's refresh
 * rate. A round fails loudly when a move failed or the window was shorter than MIN_SECONDS.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../lib/chromium.js';
import { counterReaches, counters, openView, signIn } from '../lib/console-page.js';
import { type RedisServer, startRedisServer } from '../lib/redis-server.js';
import {
  ErrorTally,
  environment,
  loadAverages,
  median,
  progress,
  runningRedisVersion,
  warnIfBusy,
  writeResult,
} from './lib.js';
import { cpuSeconds } from './proc.js';
import { type Instance, postJson, r2, startInstance } from './realtime-lib.js';

const TRAINERS = 1000;
/** Moves (so position updates) the server is asked for per second. */
const RATE = 1000;
const MIN_SECONDS = 20;
/** How long the page may take to catch up once the load stopped. */
const SETTLE_MS = 15_000;
/** The display refresh rate frames/s is compared with (no peer baseline exists). */
const REFRESH = 60;
const PREFIX = 'bench-console';

/** One measured round. */
interface ConsoleRound {
  readonly framesPerSecond: number;
  readonly produced: number;
  readonly applied: number;
  /** Applied updates whose version was not newer than one applied before (twice, or late). */
  readonly stale: number;
  readonly appliedPerProduced: number;
  /** Position updates a second at the server: log entries over their Redis time span. */
  readonly serverRate: number;
  readonly serverSeconds: number;
  readonly sent: number;
  /** How long after the last send the page had applied everything (or SETTLE_MS). */
  readonly catchUpMs: number;
  readonly cpuS: Record<string, number>;
}

const trainerOf = (n: number) => `bt-${n % TRAINERS}`;

/** One `trainer.move` for trainer `seq % TRAINERS` (as its own user); throws on any refusal. */
async function move(url: string, agent: Agent, seq: number): Promise<void> {
  const user = trainerOf(seq);
  const params = { action: 'start', directionX: Math.cos(seq), directionY: Math.sin(seq) || 1 };
  const { status, body } = await postJson(
    `${url}/rpc`,
    { jsonrpc: '2.0', id: seq, method: 'trainer.move', params },
    { agent, headers: { 'x-user-id': user } },
  );
  const answer = body as { result?: { trainerId?: string }; error?: { message: string } };
  if (answer.result?.trainerId !== user) {
    throw new Error(`HTTP ${status} ${answer.error?.message ?? JSON.stringify(body)}`);
  }
}

/** Sends `total` moves at `rate`/s from an absolute schedule; resolves when all are answered. */
export async function openLoop(
  url: string,
  agent: Agent,
  total: number,
  rate: number,
  errors: ErrorTally,
) {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  let seq = 0;
  while (seq < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (seq < due) pending.push(move(url, agent, seq++).catch((e) => errors.addError(e)));
    if (seq < total) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(pending);
  return sendSeconds;
}

/** Every trainer moved once, so the page starts with all of them (64 moves in flight). */
export async function seedTrainers(url: string, agent: Agent): Promise<void> {
  const errors = new ErrorTally();
  let next = 0;
  const worker = async () => {
    while (next < TRAINERS) await move(url, agent, next++).catch((e) => errors.addError(e));
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  errors.assertNone('seeding the trainers');
}

/** The id of the last notification (`0-0` when none). */
export async function lastNotifyId(redis: Redis): Promise<string> {
  const [last] = await redis.xrevrange(`{${PREFIX}}:notify`, '+', '-', 'COUNT', 1);
  return last?.[0] ?? '0-0';
}

/** The `position.update` entries after `afterId`, and the Redis-time span they were made over. */
export async function producedAfter(redis: Redis, afterId: string) {
  let count = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  let from = `(${afterId}`;
  for (;;) {
    const batch = await redis.xrange(`{${PREFIX}}:notify`, from, '+', 'COUNT', 5000);
    for (const [id, fields] of batch) {
      const at = fields.indexOf('method');
      if (at < 0 || at % 2 || fields[at + 1] !== 'position.update') continue;
      count += 1;
      const ms = Number(id.split('-')[0]);
      if (Number.isNaN(first)) first = ms;
      last = ms;
    }
    if (batch.length < 5000) break;
    from = `(${batch[batch.length - 1]![0]}`;
  }
  return { count, seconds: (last - first) / 1000 };
}

/** A fresh page on the field, signed in, showing every trainer, with nothing arriving. */
async function openField(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (error) => progress(`page error: ${error.message}`));
  // an admin: trainer.list (the field's starting state) is for admins
  await signIn(page, url, { user: 'bench-viewer', admin: true });
  await openView(page, 'field');
  if (!(await counterReaches(page, 'trainers-count', TRAINERS, 30_000))) {
    throw new Error(`the field shows ${(await counters(page)).trainers} of ${TRAINERS} trainers`);
  }
  return page;
}

async function round(
  browser: Browser,
  app: Instance,
  redis: Redis,
  agent: Agent,
  seconds: number,
  pids: Record<string, number>,
): Promise<ConsoleRound> {
  const page = await openField(browser, app.url);
  try {
    const since = await lastNotifyId(redis);
    const start = await counters(page);
    const cpu = cpuWatch({ ...pids, ...chromiumPids() }); // this page's renderer included
    const errors = new ErrorTally();
    const t0 = performance.now();
    const sendSeconds = await openLoop(app.url, agent, RATE * seconds, RATE, errors);
    const atStop = await counters(page);
    const loadSeconds = (performance.now() - t0) / 1000;
    errors.assertNone('the moves');
    const { count: produced, seconds: serverSeconds } = await producedAfter(redis, since);
    const stoppedAt = performance.now();
    // on a timeout the counts below say what is missing
    await counterReaches(page, 'updates-applied', start.applied + produced, SETTLE_MS);
    const catchUpMs = Math.round(performance.now() - stoppedAt);
    const end = await counters(page);
    if (serverSeconds < MIN_SECONDS) {
      throw new Error(`the updates spanned ${serverSeconds} s at the server (< ${MIN_SECONDS} s)`);
    }
    const applied = end.applied - start.applied;
    return {
      framesPerSecond: r2((atStop.frames - start.frames) / loadSeconds),
      produced,
      applied,
      stale: end.stale - start.stale,
      appliedPerProduced: Math.round((applied / produced) * 10_000) / 10_000,
      serverRate: Math.round(produced / serverSeconds),
      serverSeconds: r2(serverSeconds),
      sent: Math.round(RATE * seconds),
      catchUpMs,
      cpuS: cpuByProcess(cpu.stop(), loadSeconds, sendSeconds),
    };
  } finally {
    await page.close();
  }
}

/**
 * CPU seconds each process used from now to `stop()`; a process gone by then (a renderer of an
 * earlier page) is left out.
 */
function cpuWatch(pids: Readonly<Record<string, number>>): { stop(): Record<string, number> } {
  const read = (pid: number) => {
    try {
      return cpuSeconds(pid);
    } catch {
      return Number.NaN;
    }
  };
  const before = Object.entries(pids).map(([name, pid]) => [name, pid, read(pid)] as const);
  return {
    stop: () =>
      Object.fromEntries(
        before
          .map(([name, pid, start]) => [name, r2(read(pid) - start)] as const)
          .filter(([, used]) => !Number.isNaN(used)),
      ),
  };
}

/** CPU seconds of the instance, Redis and chromium (all its processes) during the load. */
function cpuByProcess(used: Record<string, number>, loadSeconds: number, sendSeconds: number) {
  const chromium = Object.entries(used)
    .filter(([name]) => name.startsWith('chromium-'))
    .reduce((sum, [, s]) => sum + s, 0);
  return {
    instance: used.instance ?? Number.NaN,
    redis: used.redis ?? Number.NaN,
    chromium: r2(chromium),
    loadSeconds: r2(loadSeconds),
    sendSeconds: r2(sendSeconds),
  };
}

/** Chromium's processes (browser, renderers, GPU…): this process's descendants named chrom*. */
function chromiumPids(): Record<string, number> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      names.set(pid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
      parents.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const isOurs = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const found = [...names].filter(([pid, name]) => name.startsWith('chrom') && isOurs(pid));
  return Object.fromEntries(found.map(([pid]) => [`chromium-${pid}`, pid]));
}

export async function benchConsole(options: { rounds: number; seconds: number }): Promise<void> {
  warnIfBusy();
  let server: RedisServer | undefined;
  let app: Instance | undefined;
  let browser: Browser | undefined;
  let redis: Redis | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  try {
    server = await startRedisServer();
    redis = new Redis(server.url, { lazyConnect: true });
    await redis.connect();
    const env = environment(await runningRedisVersion(redis));
    app = await startInstance({
      REDIS_URL: server.url,
      KEY_PREFIX: PREFIX,
      SECRET_KEY: randomBytes(32).toString('base64'),
      NOTIFY_RETENTION: '100000',
      LOG_LEVEL: 'warn',
    });
    await app.ready();
    await seedTrainers(app.url, agent);
    browser = await launchChromium();
    progress(`chromium ${browser.version()}, ${TRAINERS} trainers, ${RATE} moves/s asked`);
    const rounds: ConsoleRound[] = [];
    for (let i = 1; i <= options.rounds; i++) {
      const pids = { instance: app.pid, redis: server.pid };
      const r = await round(browser, app, redis, agent, options.seconds, pids);
      rounds.push(r);
      progress(
        `round ${i}: ${r.framesPerSecond} frames/s; applied ${r.applied} of ${r.produced} produced (${r.appliedPerProduced}, ${r.stale} stale); server ${r.serverRate} updates/s over ${r.serverSeconds} s; caught up ${r.catchUpMs} ms after the load`,
      );
    }
    writeResult({ ...env, loadAvgEnd: loadAverages(), ...resultOf(rounds, options.seconds) });
  } finally {
    await browser?.close();
    await app?.stop();
    agent.destroy();
    redis?.disconnect();
    await server?.stop();
  }
}

function resultOf(rounds: readonly ConsoleRound[], seconds: number) {
  const fps = median(rounds.map((r) => r.framesPerSecond));
  const worstApplied = Math.min(...rounds.map((r) => r.appliedPerProduced));
  const serverRate = median(rounds.map((r) => r.serverRate));
  const loadReached = serverRate >= RATE * 0.95;
  return {
    name: 'console',
    params: { trainers: TRAINERS, rate: RATE, seconds, rounds: rounds.length },
    ours: {
      figure: fps,
      unit: 'frames/s',
      appliedPerProduced: worstApplied,
      serverRate,
      rounds,
    },
    baseline: {
      name: `none: no peer baseline exists for the console; ratio = frames/s ÷ ${REFRESH} (a display's refresh)`,
      figure: REFRESH,
    },
    ratio: r2(fps / REFRESH),
    target: '≥ 30 frames/s (ratio ≥ 0.5) and applied/produced 1.0',
    notes:
      `met: frames ${fps >= 30 ? 'yes' : 'no'}, applied ${worstApplied === 1 ? 'yes' : 'no'}; ` +
      (loadReached
        ? `the server produced ${serverRate} updates/s (asked ${RATE})`
        : `the server produced only ${serverRate} updates/s of the ${RATE} asked (the instance could not keep up on this machine): the figures are for that rate`),
  };
}
