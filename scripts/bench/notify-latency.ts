/**
 * `notify-latency` (BENCH.md): `trainer.move` over JSON-RPC to instance A at a fixed rate (open
 * loop), and the `position.update` it causes received by an SSE client connected to instance B,
 * at 200/s and at 1000/s. Baseline in the same run at the same rates: a bare HTTP relay — the
 * notification POSTed to an express route (bare-http-ingress.ts, its own process) that parses the
 * body and XADDs it, answering once the XADD returns; a relay process (bare-sse-relay.ts)
 * `XREAD BLOCK 0`s the stream and writes each entry as an SSE frame to a plain node http
 * response; no sleeps in either. Both sides POST over the same keep-alive agent. The target: ours'
 * p99 at most 3× the relay's at both rates.
 *
 * At 200/s a third side: ours on a second pair of instances started with `COMMAND_BATCH_MAX=1`
 * (its own KEY_PREFIX, so its commands are handled by its own workers only), running alongside
 * the default pair for the whole run; its p50 is compared with the default's (batching must not
 * make light load slower). Each round runs, per rate, the relay, ours, then (200/s) batch-1.
 *
 * Every instance, the ingress, the relay and the stream share one private redis-server. This
 * process sends and receives (one clock: realtime-lib's `nowMs`), in none of theirs.
 *
 * Matching: each command moves its own user's trainer (`X-User-Id: <trainerId>`), and its rpc
 * result carries the stream `version` of the TrainerMoved event it appended; the notification of
 * that event carries the same `trainerId` and `version`. So (trainerId, version) names exactly one
 * command and one notification, whatever order the commands were handled in (several commands of
 * one trainer may be in flight) and whichever instance's worker handled it. The send time is kept
 * per request and filed under its key when the result comes back (the notification often arrives
 * first; both sides are joined once the round is done). Every round uses fresh trainer ids, so no
 * earlier round's notification can be counted. The relay's notifications carry the same key, set
 * by this process. A round fails when any send fails, any notification is missing, duplicated or
 * not one of this round's sends.
 *
 * `BENCH_CPU_PROF=<dir>` runs the instances, the ingress and the relay with `node --cpu-prof` into
 * that directory (they are then stopped with SIGTERM so the profiles are written).
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
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
  postJson,
  r2,
  type ScriptProcess,
  type SseStream,
  sortedQuantile,
  startInstance,
  startScript,
} from './realtime-lib.js';
import type { SseFrame } from './sse-parser.js';

const TRAINERS = 200;
/** The offered rates: commands (and, for the relay, notifications POSTed) per second. */
const RATES: readonly number[] = [200, 1000];
/** The rate at which ours with COMMAND_BATCH_MAX=1 is measured against the default. */
const BATCH1_RATE = 200;
/** The target: ours' p99 at most this many times the relay's, at every rate. */
const TARGET_RATIO = 3;
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
   * The answer's latency (send → answer: ours the rpc result, the relay the ingress's), and when
   * the notification arrived relative to that answer (negative: before it).
   */
  readonly answer: { p50Ms: number; p99Ms: number };
  readonly notifyAfterAnswer: { p50Ms: number; p99Ms: number };
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
): Omit<LatencyRound, 'answer' | 'notifyAfterAnswer'> {
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

/**
 * What one send came to: the (trainerId, version) key of the notification it causes, or why it
 * failed (counted by kind).
 */
type Sent = { key: string } | { kind: string; message: string };

/**
 * A side: `post(tag, seq)` sends one request over the shared keep-alive agent and says which
 * notification it causes; the round is timed from just before each send to its notification's
 * arrival, and the answer's own latency is kept (ours: the rpc answer; the relay: the ingress's).
 */
function side(
  what: string,
  inbox: Inbox,
  pids: Record<string, number>,
  post: (tag: string, seq: number) => Promise<Sent>,
): Side {
  return async (tag, total, rate) => {
    const sentAt = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    const { received, duplicates } = listen(inbox, tag);
    const errors = new ErrorTally();
    let answered = 0;
    const cpu = cpuWatch(pids);
    const send = (seq: number) => {
      const t = nowMs();
      post(tag, seq).then(
        (sent) => {
          answered += 1;
          if ('kind' in sent) errors.add(sent.kind, sent.message);
          else {
            sentAt.set(sent.key, t);
            answeredAt.set(sent.key, nowMs());
          }
        },
        (error: unknown) => {
          answered += 1;
          errors.addError(error);
        },
      );
    };
    const seconds = await openLoop(total, rate, send);
    try {
      const name = `${what} (${tag})`;
      const latencies = await settle(
        name,
        total,
        sentAt,
        received,
        () => answered,
        errors,
        duplicates,
      );
      return {
        ...roundOf(latencies, total, seconds, cpu.stop()),
        ...answerTimes(sentAt, answeredAt, received),
      };
    } finally {
      inbox.current = undefined;
    }
  };
}

/** The answers' latency (send → answer) and the notifications' arrival relative to them. */
function answerTimes(
  sentAt: Map<string, number>,
  answeredAt: Map<string, number>,
  received: Map<string, number>,
): Pick<LatencyRound, 'answer' | 'notifyAfterAnswer'> {
  const answer = new Float64Array(sentAt.size);
  const after = new Float64Array(sentAt.size);
  let i = 0;
  for (const [key, t] of sentAt) {
    const at = answeredAt.get(key)!;
    answer[i] = at - t;
    after[i++] = received.get(key)! - at;
  }
  const quantiles = (sorted: Float64Array) => ({
    p50Ms: r2(sortedQuantile(sorted, 0.5)),
    p99Ms: r2(sortedQuantile(sorted, 0.99)),
  });
  return { answer: quantiles(answer.sort()), notifyAfterAnswer: quantiles(after.sort()) };
}

/** Ours: trainer.move to A over JSON-RPC; the rpc result names the event's version. */
function rpcMove(a: Instance, agent: Agent) {
  return async (tag: string, seq: number): Promise<Sent> => {
    const trainerId = `${tag}-t${seq % TRAINERS}`;
    const d = direction(seq);
    const { status, body } = await postJson(
      `${a.url}/rpc`,
      {
        jsonrpc: '2.0',
        id: seq,
        method: 'trainer.move',
        params: { action: 'start', directionX: d.x, directionY: d.y },
      },
      { agent, headers: { 'x-user-id': trainerId } },
    );
    const answer = body as {
      result?: { trainerId: string; version: number };
      error?: { code: number; message: string };
    };
    if (answer.error) return { kind: `rpc ${answer.error.code}`, message: answer.error.message };
    if (answer.result?.trainerId !== trainerId) {
      return {
        kind: `wrong trainer (HTTP ${status})`,
        message: `${answer.result?.trainerId} for ${trainerId}`,
      };
    }
    return { key: `${trainerId}:${answer.result.version}` };
  };
}

/** The baseline: the notification POSTed to the bare ingress, which XADDs it for the relay. */
function bareNotify(ingressUrl: string, agent: Agent) {
  return async (tag: string, seq: number): Promise<Sent> => {
    const trainerId = `${tag}-t${seq % TRAINERS}`;
    const version = Math.floor(seq / TRAINERS) + 1;
    const d = direction(seq);
    const params = {
      trainerId,
      x: seq * 0.5,
      y: -seq * 0.25,
      isMoving: true,
      dirX: d.x,
      dirY: d.y,
      version,
      at: new Date().toISOString(),
    };
    const { status, body } = await postJson(
      `${ingressUrl}/notify`,
      { method: 'position.update', topic: `trainer.${trainerId}`, params },
      { agent },
    );
    if (status !== 200)
      return { kind: `HTTP ${status}`, message: JSON.stringify(body).slice(0, 200) };
    return { key: `${trainerId}:${version}` };
  };
}

function line(side: string, r: LatencyRound): string {
  const cpu = Object.entries(r.cpuS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const answer = `answer p50 ${r.answer.p50Ms} p99 ${r.answer.p99Ms} ms, notification − answer p50 ${r.notifyAfterAnswer.p50Ms} p99 ${r.notifyAfterAnswer.p99Ms} ms`;
  return `${side} ${r.rate}/s, p50 ${r.p50Ms.toFixed(2)} ms, p90 ${r.p90Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, max ${r.maxMs.toFixed(2)} ms (cpu s: ${cpu}); ${answer}`;
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

/** A pair of instances on one KEY_PREFIX: A takes the commands, B holds the SSE client. */
interface Pair {
  readonly a: Instance;
  readonly b: Instance;
  readonly inbox: Inbox;
}

/** Starts a pair (pushed to `apps` as they start, so they are stopped whatever happens). */
async function startPair(
  env: Record<string, string>,
  name: string,
  apps: Instance[],
): Promise<Pair> {
  const a = await startInstance({ ...env, SERVER_ID: `${name}-a` });
  apps.push(a);
  const b = await startInstance({ ...env, SERVER_ID: `${name}-b` });
  apps.push(b);
  await Promise.all([a.ready(), b.ready()]);
  return { a, b, inbox: new Inbox() };
}

/**
 * Opens an SSE stream that feeds `inbox` (pushed to `streams`), and resolves once its first frame
 * (`opened`) came.
 */
async function openInbox(
  url: string,
  inbox: Inbox,
  opened: (frame: SseFrame) => boolean,
  streams: SseStream[],
): Promise<void> {
  let isOpen = false;
  const stream = await openSse(url, (frame, at) => {
    if (opened(frame)) isOpen = true;
    inbox.onFrame(frame, at);
  });
  streams.push(stream);
  const openedBy = Date.now() + 10_000;
  while (!isOpen && Date.now() < openedBy) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!isOpen) throw new Error(`${url} did not open within 10 s`);
  void stream.ended.then(() => {
    if (!stopping) progress(`an SSE stream ended during the benchmark: ${url}`);
  });
}

/** The sides, in the order each round runs them, each at its own rates. */
type Sides = readonly {
  readonly name: string;
  readonly run: Side;
  readonly rates: readonly number[];
}[];

/** Per side and rate, the rounds measured. */
type Measured = Map<string, Map<number, LatencyRound[]>>;

/**
 * Warm-up (each side once at its highest rate, not counted), then `rounds` rounds; each runs,
 * for each rate, every side of that rate in turn (baseline first), printing each as it goes.
 */
async function measure(sides: Sides, rounds: number, seconds: number): Promise<Measured> {
  for (const s of sides) {
    const rate = Math.max(...s.rates);
    await s.run('warm', rate * Math.min(3, seconds), rate);
  }
  progress(`warm-up done (${Math.min(3, seconds)} s per side, not counted)`);
  const measured: Measured = new Map(sides.map((s) => [s.name, new Map()]));
  for (let i = 0; i < rounds; i++) {
    for (const rate of RATES) {
      let relayP99 = Number.NaN;
      for (const s of sides.filter((x) => x.rates.includes(rate))) {
        const r = await s.run(`${s.name.slice(0, 2)}${rate}r${i}`, rate * seconds, rate);
        const list = measured.get(s.name)!;
        list.set(rate, [...(list.get(rate) ?? []), r]);
        if (s.name === 'relay') relayP99 = r.p99Ms;
        const ratio = s.name === 'relay' ? '' : `  p99 ratio ${(r.p99Ms / relayP99).toFixed(2)}`;
        progress(`${line(`round ${i + 1}/${rounds} ${s.name.padEnd(7)}`, r)}${ratio}`);
      }
    }
  }
  return measured;
}

/** Runs the benchmark and writes bench/results/notify-latency.json. */
export async function benchNotifyLatency(options: {
  rounds: number;
  /** Notifications per round at 1000/s (default 10 000: 10 s; every rate runs as long). */
  perRound: number | undefined;
}): Promise<void> {
  const { rounds } = options;
  const seconds = Math.max(1, Math.round((options.perRound ?? 10_000) / 1000));
  warnIfBusy();
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  const apps: Instance[] = [];
  const scripts: ScriptProcess[] = [];
  const streams: SseStream[] = [];
  try {
    server = await startRedisServer();
    redis = new Redis(server.url);
    const env = environment(await runningRedisVersion(redis));
    const shared = {
      REDIS_URL: server.url,
      SECRET_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'info',
    };
    const ours = await startPair({ ...shared, KEY_PREFIX: 'nl' }, 'bench', apps);
    const batch1 = await startPair(
      { ...shared, KEY_PREFIX: 'nl1', COMMAND_BATCH_MAX: '1' },
      'bench-batch1',
      apps,
    );
    const [ingressPort, relayPort] = [await freePort(), await freePort()];
    const ingress = await startScript(
      'bare-http-ingress.ts',
      [server.url, String(ingressPort), BARE_STREAM],
      { readyLine: /listening/, profile: true },
    );
    scripts.push(ingress);
    const relay = await startScript(
      'bare-sse-relay.ts',
      [server.url, String(relayPort), BARE_STREAM],
      {
        readyLine: /listening/,
        profile: true,
      },
    );
    scripts.push(relay);
    progress(
      `redis-server pid ${server.pid}; instances A pid ${ours.a.pid} (commands), B pid ${ours.b.pid} (SSE); ` +
        `with COMMAND_BATCH_MAX=1 A1 pid ${batch1.a.pid}, B1 pid ${batch1.b.pid}; ingress pid ${ingress.pid}, relay pid ${relay.pid}`,
    );

    const watch = `/events?userId=watcher&topics=${encodeURIComponent('trainer.>')}`;
    const sessionOpened = (frame: SseFrame) => frame.event === 'session.opened';
    await openInbox(`${ours.b.url}${watch}`, ours.inbox, sessionOpened, streams);
    await openInbox(`${batch1.b.url}${watch}`, batch1.inbox, sessionOpened, streams);
    const relayInbox = new Inbox();
    await openInbox(
      `http://127.0.0.1:${relayPort}/events`,
      relayInbox,
      (f) => f.retry !== undefined,
      streams,
    );

    const pids = {
      a: ours.a.pid,
      b: ours.b.pid,
      a1: batch1.a.pid,
      b1: batch1.b.pid,
      redis: server.pid,
      ingress: ingress.pid,
      relay: relay.pid,
      bench: process.pid,
    };
    // one keep-alive agent for every POST: the rpc calls and the ingress's
    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const sides: Sides = [
      {
        name: 'relay',
        run: side(
          'baseline',
          relayInbox,
          pids,
          bareNotify(`http://127.0.0.1:${ingressPort}`, agent),
        ),
        rates: RATES,
      },
      { name: 'ours', run: side('ours', ours.inbox, pids, rpcMove(ours.a, agent)), rates: RATES },
      {
        name: 'batch-1',
        run: side('ours, COMMAND_BATCH_MAX=1', batch1.inbox, pids, rpcMove(batch1.a, agent)),
        rates: [BATCH1_RATE],
      },
    ];
    progress(
      `${RATES.join('/s and ')}/s for ${seconds} s per round over ${TRAINERS} trainers; ${rounds} rounds; ` +
        `each round per rate: relay, ours, and at ${BATCH1_RATE}/s ours with COMMAND_BATCH_MAX=1`,
    );
    const measured = await measure(sides, rounds, seconds);
    // every frame arrives during its own round (each waits for all of its notifications)
    const ignored = [ours.inbox, batch1.inbox, relayInbox].map((i) => i.ignored);
    if (ignored.some((n) => n > 0)) {
      throw new Error(
        `position.update frames outside their round (late duplicates?): ours ${ignored[0]}, batch-1 ${ignored[1]}, relay ${ignored[2]}`,
      );
    }
    writeResult({ ...env, loadAvgEnd: loadAverages(), ...resultOf(measured, rounds, seconds) });
  } finally {
    stopping = true;
    for (const s of streams) s.close();
    await Promise.all(scripts.map((s) => s.stop()));
    await Promise.all(apps.map((app) => app.stop()));
    redis?.disconnect();
    await server?.stop();
  }
}

/** One rate's figures: medians of the rounds, and the p99 ratio against the relay's. */
function perRate(measured: Measured, rate: number) {
  const o = summary(measured.get('ours')!.get(rate)!);
  const b = summary(measured.get('relay')!.get(rate)!);
  const p99Ratio = r2(o.p99Ms / b.p99Ms);
  const pairs = o.rounds.map((r, i) => r2(r.p99Ms / b.rounds[i]!.p99Ms));
  return {
    rate,
    ours: { p50Ms: o.p50Ms, p99Ms: o.p99Ms },
    relay: { p50Ms: b.p50Ms, p99Ms: b.p99Ms },
    p99Ratio,
    pairRatios: pairs,
    pairRatioMedian: r2(median(pairs)),
    target: `p99 ratio <= ${TARGET_RATIO}`,
    met: p99Ratio <= TARGET_RATIO,
    oursRounds: o,
    relayRounds: b,
  };
}

/** Ours with COMMAND_BATCH_MAX=1 against the default at BATCH1_RATE: batching must not slow light load. */
function batchOneOf(measured: Measured) {
  const one = summary(measured.get('batch-1')!.get(BATCH1_RATE)!);
  const dflt = summary(measured.get('ours')!.get(BATCH1_RATE)!);
  return {
    rate: BATCH1_RATE,
    defaultP50Ms: dflt.p50Ms,
    batch1P50Ms: one.p50Ms,
    defaultP99Ms: dflt.p99Ms,
    batch1P99Ms: one.p99Ms,
    p50Ratio: r2(dflt.p50Ms / one.p50Ms),
    target: 'default p50 <= COMMAND_BATCH_MAX=1 p50',
    met: dflt.p50Ms <= one.p50Ms,
    rounds: one,
  };
}

function resultOf(measured: Measured, rounds: number, seconds: number) {
  const rates = RATES.map((rate) => perRate(measured, rate));
  const worst = rates.reduce((w, r) => (r.p99Ratio > w.p99Ratio ? r : w));
  const batchOne = batchOneOf(measured);
  for (const r of rates) {
    progress(
      `${r.rate}/s median: ours p50 ${r.ours.p50Ms} ms p99 ${r.ours.p99Ms} ms, relay p50 ${r.relay.p50Ms} ms p99 ${r.relay.p99Ms} ms, ` +
        `p99 ratio ${r.p99Ratio} (target ≤ ${TARGET_RATIO}: ${r.met ? 'met' : 'not met'})`,
    );
  }
  progress(
    `${BATCH1_RATE}/s p50: default ${batchOne.defaultP50Ms} ms, COMMAND_BATCH_MAX=1 ${batchOne.batch1P50Ms} ms ` +
      `(batching not slower: ${batchOne.met ? 'met' : 'not met'})`,
  );
  return {
    name: 'notify-latency',
    params: {
      rates: RATES,
      seconds,
      rounds,
      trainers: TRAINERS,
      order:
        `warm-up (${Math.min(3, seconds)} s per side at its highest rate, not counted), then per round ` +
        'and rate: relay, ours, ' +
        `and at ${BATCH1_RATE}/s ours with COMMAND_BATCH_MAX=1`,
      instances:
        'A takes the commands, B holds the SSE client; both run command workers. A second pair ' +
        '(A1, B1: COMMAND_BATCH_MAX=1, its own KEY_PREFIX) runs alongside on the same redis-server ' +
        'for the whole run, idle while the other sides are measured',
    },
    ours: {
      name: 'trainer.move JSON-RPC on A → position.update SSE on B',
      figure: worst.ours.p99Ms,
      unit: `ms p99 at ${worst.rate}/s`,
      ...worst.ours,
    },
    baseline: {
      name: 'bare HTTP relay: express POST → XADD, XREAD BLOCK 0 process → SSE res.write',
      figure: worst.relay.p99Ms,
      ...worst.relay,
    },
    ratio: worst.p99Ratio,
    target: `ratio <= ${TARGET_RATIO}`,
    rates,
    batchOne,
    notes:
      `ratio = ours p99 / relay p99 at the rate where it is worse (each rate's in rates[]; the target ` +
      `holds when both are ≤ ${TARGET_RATIO}). Latency = arrival of the SSE chunk carrying the ` +
      'notification − the moment its POST was issued (ours: /rpc on A; relay: /notify on the ' +
      'ingress), both from the bench process over one keep-alive agent, which sends and receives ' +
      '(open loop from an absolute schedule). Ours is matched on (trainerId, version): the rpc ' +
      'result gives the version of the event the command appended. Ours includes the HTTP call, ' +
      'the command stream, whichever instance’s worker handles it (A or B), the append and, on ' +
      'B, either the writer’s fast path (B handled it) or B’s tail of the notifications stream ' +
      '(A did). The relay: an express route parses the body and XADDs; another process ' +
      'XREAD BLOCK 0s and writes the SSE frame. answer: latency of the POST answers (rpc result, ' +
      'ingress after its XADD); notifyAfterAnswer: arrival of the notification minus arrival of ' +
      'its answer (negative: the notification came first). batchOne: ours at ' +
      `${BATCH1_RATE}/s with COMMAND_BATCH_MAX=1 against the default (64), same run. cpuS: CPU ` +
      'seconds per process during the round (2 cores shared by all).',
  };
}
