/**
 * `notify-latency` (BENCH.md): `trainer.move` over JSON-RPC to instance A at a fixed rate (open
 * loop), and the `position.update` it causes received by an SSE client connected to instance B.
 * Baseline in the same run: a bare relay — this process XADDs the same notifications to a stream
 * at the same rate, a relay process (bare-sse-relay.ts) XREAD BLOCKs it and writes each entry as
 * an SSE frame to a plain node http response — against which the p99s are compared.
 *
 * Both instances, the relay and the stream share one private redis-server. This process sends and
 * receives (one clock: realtime-lib's `nowMs`), in neither instance's process.
 *
 * Matching: each command moves its own user's trainer (`X-User-Id: <trainerId>`), and its rpc
 * result carries the stream `version` of the TrainerMoved event it appended; the notification of
 * that event carries the same `trainerId` and `version`. So (trainerId, version) names exactly one
 * command and one notification, whatever order the commands were handled in (several commands of
 * one trainer may be in flight) and whichever instance's worker handled it. The send time is kept
 * per request and filed under its key when the result comes back (the notification often arrives
 * first; both sides are joined once the round is done). Every round uses fresh trainer ids, so no
 * earlier round's notification can be counted. A round fails when any command fails, any
 * notification is missing, duplicated or not one of this round's commands.
 *
 * `BENCH_CPU_PROF=<dir>` runs both instances and the relay with `node --cpu-prof` into that
 * directory (they are then stopped with SIGTERM so the profiles are written).
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { freePort, type RedisServer, startRedisServer } from '../lib/redis-server.js';
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
import { cpuWatch } from './proc.js';
import {
  type Instance,
  nowMs,
  openSse,
  r2,
  type ScriptProcess,
  type SseStream,
  sortedQuantile,
  startInstance,
  startScript,
} from './realtime-lib.js';

const TRAINERS = 200;
/** Commands (and, for the baseline, XADDs) per second. */
const RATE = 1000;
const BARE_STREAM = '{bare}:notify';
/** How long after the last send a round waits for what is still missing. */
const SETTLE_MS = 15_000;

/** Set while shutting down, so closing the streams is not reported as a failure. */
let stopping = false;

/** One measured round of one side. */
interface LatencyRound {
  /** Commands (or XADDs) sent per second, as achieved. */
  readonly rate: number;
  readonly sent: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** CPU seconds each process used during the round. */
  readonly cpuS: Record<string, number>;
  /**
   * Ours only: the rpc answer's latency (send → result), and when the notification arrived
   * relative to that answer (negative: before it) — how much of the figure is the command itself.
   */
  readonly rpc?: { p50Ms: number; p99Ms: number };
  readonly notifyAfterAnswer?: { p50Ms: number; p99Ms: number };
}

/** Position updates of the round running now, as they arrive. */
interface Receiver {
  readonly tag: string;
  receive(params: { trainerId?: unknown; version?: unknown }, at: number): void;
}

interface Position {
  readonly trainerId?: unknown;
  readonly version?: unknown;
}

/** The frames of one SSE stream go to the round running now (if any). */
class Inbox {
  current: Receiver | undefined;
  /** position.update frames that are not of the round running now. */
  ignored = 0;
  onFrame = (frame: { event: string; data: string }, at: number): void => {
    if (frame.event !== 'position.update') return;
    const params = (JSON.parse(frame.data) as { params: Position }).params;
    if (this.current && String(params.trainerId).startsWith(`${this.current.tag}-`)) {
      this.current.receive(params, at);
    } else this.ignored += 1;
  };
}

/** Sends `total` operations at `rate`/s from an absolute schedule (open loop: never waits for answers). */
async function openLoop(total: number, rate: number, send: (seq: number) => void): Promise<number> {
  const started = performance.now();
  let seq = 0;
  while (seq < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (seq < due) send(seq++);
    if (seq < total) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return (performance.now() - started) / 1000;
}

/** The result of one round once every send was answered and every notification is in (or not). */
async function settle(
  what: string,
  total: number,
  sentAt: Map<string, number>,
  received: Map<string, number>,
  answered: () => number,
  errors: ErrorTally,
  duplicates: () => number,
): Promise<Float64Array> {
  const deadline = performance.now() + SETTLE_MS;
  while (performance.now() < deadline && (answered() < total || received.size < total)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  errors.assertNone(what);
  if (answered() < total) throw new Error(`${what}: only ${answered()} of ${total} sends answered`);
  const latencies: number[] = [];
  let missing = 0;
  for (const [key, t] of sentAt) {
    const r = received.get(key);
    if (r === undefined) missing += 1;
    else latencies.push(r - t);
  }
  const unexpected = [...received.keys()].filter((k) => !sentAt.has(k));
  if (missing || duplicates() || unexpected.length || sentAt.size !== total) {
    throw new Error(
      `${what}: ${total} sent, ${sentAt.size} keys, ${received.size} notifications received; ` +
        `${missing} missing after ${SETTLE_MS} ms, ${duplicates()} duplicated, ${unexpected.length} not sent this round` +
        (unexpected.length ? ` (e.g. ${unexpected.slice(0, 3).join(', ')})` : ''),
    );
  }
  return Float64Array.from(latencies).sort();
}

function roundOf(
  latencies: Float64Array,
  total: number,
  seconds: number,
  cpuS: Record<string, number>,
): LatencyRound {
  return {
    rate: Math.round(total / seconds),
    sent: total,
    p50Ms: r2(sortedQuantile(latencies, 0.5)),
    p90Ms: r2(sortedQuantile(latencies, 0.9)),
    p99Ms: r2(sortedQuantile(latencies, 0.99)),
    maxMs: r2(latencies[latencies.length - 1] ?? Number.NaN),
    cpuS,
  };
}

function direction(seq: number): { x: number; y: number } {
  const x = Math.cos(seq);
  const y = Math.sin(seq);
  return x === 0 && y === 0 ? { x: 1, y: 0 } : { x, y };
}

/** A side of the benchmark: runs one round with the trainer ids `<tag>-t<n>`. */
type Side = (tag: string, total: number, rate: number) => Promise<LatencyRound>;

/** Points the inbox at a round: each (trainerId, version) received once, repeats counted. */
function listen(inbox: Inbox, tag: string) {
  const received = new Map<string, number>();
  let repeats = 0;
  inbox.current = {
    tag,
    receive: (p, at) => {
      const key = `${p.trainerId}:${p.version}`;
      if (received.has(key)) repeats += 1;
      else received.set(key, at);
    },
  };
  return { received, duplicates: () => repeats };
}

/** Ours: trainer.move to A over JSON-RPC; position.update read from B. */
function oursSide(a: Instance, inbox: Inbox, pids: Record<string, number>): Side {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  return async (tag, total, rate) => {
    const sentAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    const { received, duplicates } = listen(inbox, tag);
    const errors = new ErrorTally();
    let answered = 0;
    const cpu = cpuWatch(pids);
    const send = (seq: number) => {
      const trainerId = `${tag}-t${seq % TRAINERS}`;
      const d = direction(seq);
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: seq,
        method: 'trainer.move',
        params: { action: 'start', directionX: d.x, directionY: d.y },
      });
      const t = nowMs();
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: a.port,
          path: '/rpc',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-user-id': trainerId,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => {
            answered += 1;
            try {
              const answer = JSON.parse(text) as {
                result?: { trainerId: string; version: number };
                error?: { code: number; message: string };
              };
              if (answer.error) errors.add(`rpc ${answer.error.code}`, answer.error.message);
              else if (answer.result?.trainerId !== trainerId)
                errors.add('wrong trainer', `${answer.result?.trainerId} for ${trainerId}`);
              else {
                const key = `${trainerId}:${answer.result.version}`;
                sentAt.set(key, t);
                answeredAt.set(key, nowMs());
              }
            } catch {
              errors.add(`HTTP ${res.statusCode}`, text.slice(0, 200));
            }
          });
        },
      );
      req.on('error', (error) => {
        answered += 1;
        errors.addError(error);
      });
      req.end(body);
    };
    const seconds = await openLoop(total, rate, send);
    try {
      const latencies = await settle(
        `ours (${tag})`,
        total,
        sentAt,
        received,
        () => answered,
        errors,
        duplicates,
      );
      const rpc = new Float64Array(total);
      const after = new Float64Array(total);
      let i = 0;
      for (const [key, t] of sentAt) {
        const answer = answeredAt.get(key)!;
        rpc[i] = answer - t;
        after[i++] = received.get(key)! - answer;
      }
      rpc.sort();
      after.sort();
      return {
        ...roundOf(latencies, total, seconds, cpu.stop()),
        rpc: { p50Ms: r2(sortedQuantile(rpc, 0.5)), p99Ms: r2(sortedQuantile(rpc, 0.99)) },
        notifyAfterAnswer: {
          p50Ms: r2(sortedQuantile(after, 0.5)),
          p99Ms: r2(sortedQuantile(after, 0.99)),
        },
      };
    } finally {
      inbox.current = undefined;
    }
  };
}

/** The baseline: XADD here, the relay process XREAD BLOCKs and writes the SSE frame. */
function bareSide(redis: Redis, inbox: Inbox, pids: Record<string, number>): Side {
  return async (tag, total, rate) => {
    const sentAt = new Map<string, number>();
    const { received, duplicates } = listen(inbox, tag);
    const errors = new ErrorTally();
    let answered = 0;
    const cpu = cpuWatch(pids);
    const send = (seq: number) => {
      const trainerId = `${tag}-t${seq % TRAINERS}`;
      const version = Math.floor(seq / TRAINERS) + 1;
      const d = direction(seq);
      const params = JSON.stringify({
        trainerId,
        x: seq * 0.5,
        y: -seq * 0.25,
        isMoving: true,
        dirX: d.x,
        dirY: d.y,
        version,
        at: new Date().toISOString(),
      });
      sentAt.set(`${trainerId}:${version}`, nowMs());
      redis
        .xadd(
          BARE_STREAM,
          'MAXLEN',
          '~',
          10_000,
          '*',
          'method',
          'position.update',
          'params',
          params,
          'target',
          'broadcast',
          'topic',
          `trainer.${trainerId}`,
        )
        .then(
          () => {
            answered += 1;
          },
          (error: unknown) => {
            answered += 1;
            errors.addError(error);
          },
        );
    };
    const seconds = await openLoop(total, rate, send);
    try {
      const latencies = await settle(
        `baseline (${tag})`,
        total,
        sentAt,
        received,
        () => answered,
        errors,
        duplicates,
      );
      return roundOf(latencies, total, seconds, cpu.stop());
    } finally {
      inbox.current = undefined;
    }
  };
}

function line(side: string, r: LatencyRound): string {
  const cpu = Object.entries(r.cpuS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const rpc = r.rpc
    ? `; rpc answer p50 ${r.rpc.p50Ms} p99 ${r.rpc.p99Ms} ms, notification − answer p50 ${r.notifyAfterAnswer?.p50Ms} p99 ${r.notifyAfterAnswer?.p99Ms} ms`
    : '';
  return `${side} ${r.rate}/s, p50 ${r.p50Ms.toFixed(2)} ms, p90 ${r.p90Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(2)} ms (cpu s: ${cpu})${rpc}`;
}

function summary(rounds: readonly LatencyRound[]) {
  return {
    rate: Math.round(median(rounds.map((r) => r.rate))),
    p50Ms: r2(median(rounds.map((r) => r.p50Ms))),
    p90Ms: r2(median(rounds.map((r) => r.p90Ms))),
    p99Ms: r2(median(rounds.map((r) => r.p99Ms))),
    maxMs: r2(median(rounds.map((r) => r.maxMs))),
    rounds,
  };
}

/** Runs the benchmark and writes bench/results/notify-latency.json. */
export async function benchNotifyLatency(options: {
  rounds: number;
  /** Notifications per round (default 10 000: 10 s at 1000/s). */
  perRound: number | undefined;
}): Promise<void> {
  const { rounds } = options;
  const rate = RATE;
  const seconds = Math.max(1, Math.round((options.perRound ?? 10 * RATE) / RATE));
  const total = seconds * rate;
  warnIfBusy();
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  const apps: Instance[] = [];
  let relay: ScriptProcess | undefined;
  const streams: SseStream[] = [];
  try {
    server = await startRedisServer();
    redis = new Redis(server.url);
    const env = environment(await runningRedisVersion(redis));
    const shared = {
      REDIS_URL: server.url,
      SECRET_KEY: randomBytes(32).toString('base64'),
      KEY_PREFIX: 'nl',
      LOG_LEVEL: 'info',
    };
    const a = await startInstance({ ...shared, SERVER_ID: 'bench-a' });
    apps.push(a);
    const b = await startInstance({ ...shared, SERVER_ID: 'bench-b' });
    apps.push(b);
    await Promise.all([a.ready(), b.ready()]);
    const relayPort = await freePort();
    relay = await startScript('bare-sse-relay.ts', [server.url, String(relayPort), BARE_STREAM], {
      readyLine: /listening/,
      profile: true,
    });
    progress(
      `redis-server pid ${server.pid}; instance A pid ${a.pid} (commands), B pid ${b.pid} (SSE); relay pid ${relay.pid}`,
    );

    const oursInbox = new Inbox();
    const bareInbox = new Inbox();
    let opened = false;
    const watcher = await openSse(
      `${b.url}/events?userId=watcher&topics=${encodeURIComponent('trainer.>')}`,
      (frame, at) => {
        if (frame.event === 'session.opened') opened = true;
        oursInbox.onFrame(frame, at);
      },
    );
    streams.push(watcher);
    let relayOpened = false;
    const relayStream = await openSse(`http://127.0.0.1:${relayPort}/events`, (frame, at) => {
      if (frame.retry !== undefined) relayOpened = true;
      bareInbox.onFrame(frame, at);
    });
    streams.push(relayStream);
    const openedBy = Date.now() + 10_000;
    while (!(opened && relayOpened) && Date.now() < openedBy) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (!opened || !relayOpened) throw new Error('the SSE streams did not open within 10 s');
    for (const s of streams) {
      void s.ended.then(() => {
        if (!stopping) progress('an SSE stream ended during the benchmark');
      });
    }

    const pids = {
      a: a.pid,
      b: b.pid,
      redis: server.pid,
      relay: relay.pid,
      bench: process.pid,
    };
    const ours = oursSide(a, oursInbox, pids);
    const bare = bareSide(redis, bareInbox, pids);
    progress(
      `${rate}/s for ${seconds} s per round over ${TRAINERS} trainers; ${rounds} rounds per side, alternating`,
    );
    const warm = Math.min(total, rate * 3);
    await bare('warm', warm, rate);
    await ours('warm', warm, rate);
    progress('warm-up done (3 s per side, not counted)');
    const oursRounds: LatencyRound[] = [];
    const bareRounds: LatencyRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const br = await bare(`b${i}`, total, rate);
      bareRounds.push(br);
      progress(line(`round ${i + 1}/${rounds} baseline`, br));
      const or = await ours(`o${i}`, total, rate);
      oursRounds.push(or);
      progress(
        `${line(`round ${i + 1}/${rounds} ours    `, or)}  p99 ratio ${(or.p99Ms / br.p99Ms).toFixed(2)}`,
      );
    }
    // every frame arrives during its own round (each waits for all of its notifications)
    if (oursInbox.ignored || bareInbox.ignored) {
      throw new Error(
        `position.update frames outside their round (late duplicates?): ours ${oursInbox.ignored}, baseline ${bareInbox.ignored}`,
      );
    }
    const o = summary(oursRounds);
    const bs = summary(bareRounds);
    const ratio = r2(o.p99Ms / bs.p99Ms);
    const pairs = oursRounds.map((r, i) => r2(r.p99Ms / bareRounds[i]!.p99Ms));
    progress(
      `median: ours p50 ${o.p50Ms} ms p99 ${o.p99Ms} ms, relay p50 ${bs.p50Ms} ms p99 ${bs.p99Ms} ms, p99 ratio ${ratio}`,
    );
    writeResult({
      name: 'notify-latency',
      ...env,
      loadAvgEnd: loadAverages(),
      params: {
        rate,
        seconds,
        notificationsPerRound: total,
        rounds,
        trainers: TRAINERS,
        order: 'warm-up (3 s each, not counted), then baseline, ours, …',
        instances: 'A takes the commands, B holds the SSE client; both run command workers',
      },
      ours: {
        name: 'trainer.move JSON-RPC on A → position.update SSE on B',
        figure: o.p99Ms,
        unit: 'ms p99',
        ...o,
      },
      baseline: {
        name: 'bare relay: XADD → XREAD BLOCK process → SSE res.write',
        figure: bs.p99Ms,
        unit: 'ms p99',
        ...bs,
      },
      ratio,
      pairRatios: pairs,
      pairRatioMedian: r2(median(pairs)),
      target: 'ratio <= 2',
      notes:
        'ratio = ours p99 / baseline p99 (lower is better). Latency = arrival of the SSE chunk ' +
        'carrying the notification − the moment the request (ours) or XADD (baseline) was ' +
        'issued, both in the bench process, which sends and receives (open loop from an absolute ' +
        'schedule). Ours is matched on (trainerId, version): the rpc result gives the version ' +
        'of the event the command appended. Ours includes the HTTP call, the command stream, ' +
        'whichever instance’s worker handles it (A or B), the append and, on B, either the ' +
        'writer’s fast path (B handled it) or B’s tail of the notifications stream (A did). ' +
        'rpc: latency of the rpc answers; notifyAfterAnswer: arrival of the notification minus ' +
        'arrival of its rpc answer (negative: the notification came first). cpuS: CPU seconds ' +
        'per process during the round (2 cores shared by all).',
    });
  } finally {
    stopping = true;
    for (const s of streams) s.close();
    await relay?.stop();
    await Promise.all(apps.map((app) => app.stop()));
    redis?.disconnect();
    await server?.stop();
  }
}
