/**
 * `fanout` (BENCH.md): 10 000 SSE sessions on one instance (STORE=redis), held by a client in a
 * second process (sse-client-process.ts), then 20 `message.broadcast`s 50 ms apart and 20 back
 * to back (each sent once the previous one was answered), sent as admin over JSON-RPC. Baseline
 * in the same run: a bare node http server (bare-sse-fanout.ts, its own process) holding 10 000
 * plain responses of its own client process, fed the same 40 frames with the same timing over a
 * POST, each `res.write`-n to every response. Alternating rounds, after one warm-up round each.
 *
 * Each client process counts, per session, every broadcast of the round (each must arrive exactly
 * once: a missing, duplicated or stray delivery, or a session that closed, fails the benchmark)
 * and its latency from the `sentAt` the broadcast carries (stamped here just before the call;
 * both processes read the same wall clock, see realtime-lib's `nowMs`).
 *
 * Figures per round: deliveries/s = deliveries ÷ (time from sending the first broadcast of each
 * phase to the last delivery of that phase, summed over the two phases); p50/p99 over all
 * deliveries. Marginal memory: the server process's VmRSS after opening the sessions (and 2 s to
 * settle) minus before, ÷ sessions. `BENCH_CPU_PROF=<dir>` runs the instance and the bare server
 * with `node --cpu-prof` into that directory.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Redis } from 'ioredis';
import { freePort, type RedisServer, startRedisServer } from '../lib/redis-server.js';
import {
  environment,
  fmt,
  loadAverages,
  median,
  pairRatios,
  progress,
  ratioOf,
  runningRedisVersion,
  warnIfBusy,
  writeResult,
} from './lib.js';
import { cpuWatch, rssKb } from './proc.js';
import {
  type Instance,
  nowMs,
  postJson,
  r2,
  type ScriptProcess,
  startInstance,
  startScript,
} from './realtime-lib.js';
import type { ClientReply, ClientReport, ClientRequest } from './sse-client-process.js';

const PACED = 20;
const GAP_MS = 50;
const BACK_TO_BACK = 20;
const BROADCASTS = PACED + BACK_TO_BACK;
/** Connections each client opens at once. */
const OPEN_BATCH = 200;
/** How long a phase may take to be delivered everywhere before the round fails. */
const DELIVERY_TIMEOUT_MS = 60_000;
/** What the sessions' limit is raised to (SSE_MAX_CONNECTIONS). */
const MAX_CONNECTIONS = 20_000;

/** One measured round of one side. */
interface FanoutRound {
  /** Deliveries per second over both phases. */
  readonly rate: number;
  readonly pacedRate: number;
  readonly backToBackRate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p50/p99 of the paced broadcasts, and of the back-to-back ones. */
  readonly paced: { p50Ms: number; p99Ms: number };
  readonly backToBack: { p50Ms: number; p99Ms: number };
  readonly deliveries: number;
  /** The server process's VmRSS after the round. */
  readonly rssKb: number;
  /** CPU seconds each process used during the round. */
  readonly cpuS: Record<string, number>;
}

/** A client process and a request/answer channel to it. */
class Client {
  private pending?: { resolve(reply: ClientReply): void; reject(error: Error): void };

  constructor(readonly proc: ScriptProcess) {
    proc.child.on('message', (reply: ClientReply) => {
      const p = this.pending;
      this.pending = undefined;
      if (reply.op === 'error') p?.reject(new Error(`client: ${reply.message}`));
      else p?.resolve(reply);
    });
    proc.child.once('exit', (code) => {
      this.pending?.reject(new Error(`client process exited with ${code}`));
      this.pending = undefined;
    });
  }

  ask<Op extends ClientReply['op']>(
    request: ClientRequest,
  ): Promise<Extract<ClientReply, { op: Op }>> {
    if (this.pending) throw new Error('one request at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve: resolve as (r: ClientReply) => void, reject };
      this.proc.child.send(request);
    });
  }
}

/** Sends broadcast `seq` (stamping `sentAt`) and resolves once it was answered. */
type Broadcast = (seq: number, sentAt: number) => Promise<void>;

function oursBroadcast(instance: Instance): Broadcast {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return async (seq, sentAt) => {
    const { status, body } = await postJson(
      `${instance.url}/rpc`,
      {
        jsonrpc: '2.0',
        id: seq,
        method: 'message.broadcast',
        params: { targetType: 'broadcast', method: 'message.bench', params: { seq, sentAt } },
      },
      { agent, headers: { 'x-user-id': 'oak', 'x-user-roles': 'admin' } },
    );
    const answer = body as { result?: unknown; error?: { message: string } };
    if (status !== 200 || !answer.result) {
      throw new Error(`message.broadcast ${seq}: HTTP ${status} ${JSON.stringify(answer.error)}`);
    }
  };
}

function bareBroadcast(url: string): Broadcast {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const epoch = randomBytes(6).toString('hex');
  return async (seq, sentAt) => {
    const { status } = await postJson(
      `${url}/broadcast`,
      {
        method: 'message.bench',
        params: { seq, sentAt, from: 'oak' },
        id: `${epoch}:${Date.now()}-${seq}`,
      },
      { agent },
    );
    if (status !== 200) throw new Error(`bare broadcast ${seq}: HTTP ${status}`);
  };
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
}

/** One round: arm the client, 20 paced, wait for them, 20 back to back, wait, check, figures. */
async function round(
  what: string,
  client: Client,
  broadcast: Broadcast,
  base: number,
  serverPid: number,
  pids: Record<string, number>,
): Promise<FanoutRound> {
  await client.ask<'armed'>({ op: 'arm', base, broadcasts: BROADCASTS, split: PACED });
  const cpu = cpuWatch(pids);
  const sentAt = new Float64Array(BROADCASTS);
  const t0 = performance.now();
  const answers: Promise<void>[] = [];
  for (let k = 0; k < PACED; k++) {
    await sleepUntil(t0 + k * GAP_MS);
    sentAt[k] = nowMs();
    answers.push(broadcast(base + k, sentAt[k]!));
  }
  await Promise.all(answers);
  const paced = await client.ask<'waited'>({
    op: 'wait',
    from: 0,
    to: PACED,
    timeoutMs: DELIVERY_TIMEOUT_MS,
  });
  if (!paced.ok) throw new Error(`${what}: paced broadcasts: ${missingText(paced)}`);
  for (let k = PACED; k < BROADCASTS; k++) {
    sentAt[k] = nowMs();
    await broadcast(base + k, sentAt[k]!);
  }
  const b2b = await client.ask<'waited'>({
    op: 'wait',
    from: PACED,
    to: BROADCASTS,
    timeoutMs: DELIVERY_TIMEOUT_MS,
  });
  const cpuS = cpu.stop();
  if (!b2b.ok) throw new Error(`${what}: back-to-back broadcasts: ${missingText(b2b)}`);
  const { report } = await client.ask<'report'>({ op: 'report' });
  check(what, report);
  const phase = (from: number, to: number) => {
    const slice = report.perBroadcast.slice(from, to);
    const deliveries = slice.reduce((n, b) => n + b.count, 0);
    const seconds = (Math.max(...slice.map((b) => b.last)) - sentAt[from]!) / 1000;
    return { deliveries, seconds };
  };
  const p = phase(0, PACED);
  const b = phase(PACED, BROADCASTS);
  return {
    rate: Math.round((p.deliveries + b.deliveries) / (p.seconds + b.seconds)),
    pacedRate: Math.round(p.deliveries / p.seconds),
    backToBackRate: Math.round(b.deliveries / b.seconds),
    p50Ms: report.p50Ms,
    p90Ms: report.p90Ms,
    p99Ms: report.p99Ms,
    maxMs: report.maxMs,
    paced: report.phases[0]!,
    backToBack: report.phases[1]!,
    deliveries: report.deliveries,
    rssKb: rssKb(serverPid),
    cpuS,
  };
}

function missingText(w: Extract<ClientReply, { op: 'waited' }>): string {
  return `${w.missing} deliveries missing after ${DELIVERY_TIMEOUT_MS / 1000} s, in ${w.sessionsMissing} sessions (per broadcast: ${w.missingPerBroadcast?.join(' ')}); ${w.closedSessions} sessions closed`;
}

/** Fails loudly unless every session got every broadcast of the round exactly once. */
function check(what: string, r: ClientReport): void {
  const problems: string[] = [];
  if (r.deliveries !== r.expected) problems.push(`${r.deliveries} of ${r.expected} delivered`);
  if (r.duplicates) problems.push(`${r.duplicates} duplicate deliveries`);
  if (r.strays) problems.push(`${r.strays} deliveries of broadcasts not of this round`);
  if (r.incompleteSessions) {
    problems.push(`${r.incompleteSessions} sessions without every broadcast exactly once`);
  }
  if (r.closedSessions) problems.push(`${r.closedSessions} sessions closed`);
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')}`);
}

function line(side: string, r: FanoutRound): string {
  const cpu = Object.entries(r.cpuS)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `${side} ${fmt(r.rate)} deliveries/s (paced ${fmt(r.pacedRate)}, back to back ${fmt(r.backToBackRate)}), p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (paced ${r.paced.p50Ms}/${r.paced.p99Ms}, back to back ${r.backToBack.p50Ms}/${r.backToBack.p99Ms}), max ${r.maxMs} ms; ${fmt(r.deliveries)} delivered exactly once (cpu s: ${cpu})`;
}

function summary(rounds: readonly FanoutRound[]) {
  const m = (f: (r: FanoutRound) => number) => median(rounds.map(f));
  return {
    rate: Math.round(m((r) => r.rate)),
    pacedRate: Math.round(m((r) => r.pacedRate)),
    backToBackRate: Math.round(m((r) => r.backToBackRate)),
    p50Ms: r2(m((r) => r.p50Ms)),
    p90Ms: r2(m((r) => r.p90Ms)),
    p99Ms: r2(m((r) => r.p99Ms)),
    maxMs: r2(m((r) => r.maxMs)),
    paced: { p50Ms: r2(m((r) => r.paced.p50Ms)), p99Ms: r2(m((r) => r.paced.p99Ms)) },
    backToBack: {
      p50Ms: r2(m((r) => r.backToBack.p50Ms)),
      p99Ms: r2(m((r) => r.backToBack.p99Ms)),
    },
    rounds,
  };
}

function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Opens the sessions and measures the server's marginal RSS. */
async function openSessions(
  client: Client,
  serverPid: number,
  url: string,
  sessions: number,
  ready: 'session.opened' | 'retry',
  label: string,
): Promise<{ rssBeforeKb: number; rssAfterKb: number; kbPerSession: number; openSeconds: number }> {
  const rssBeforeKb = rssKb(serverPid);
  const opened = await client.ask<'opened'>({
    op: 'open',
    url,
    userPrefix: 'fan',
    count: sessions,
    batch: OPEN_BATCH,
    ready,
    label,
  });
  if (opened.count !== sessions) throw new Error(`${label}: ${opened.count} of ${sessions} opened`);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rssAfterKb = rssKb(serverPid);
  const kbPerSession = r2((rssAfterKb - rssBeforeKb) / sessions);
  progress(
    `${label}: ${fmt(sessions)} sessions open in ${opened.seconds.toFixed(1)} s; server VmRSS ${fmt(rssBeforeKb)} → ${fmt(rssAfterKb)} KB = ${kbPerSession} KB/session`,
  );
  return { rssBeforeKb, rssAfterKb, kbPerSession, openSeconds: r2(opened.seconds) };
}

/** Runs the benchmark and writes bench/results/fanout.json. */
export async function benchFanout(options: {
  rounds: number;
  /** Sessions per side (default 10 000). */
  sessions: number | undefined;
}): Promise<void> {
  const { rounds } = options;
  const sessions = options.sessions ?? 10_000;
  warnIfBusy();
  const limit = openFileLimit();
  progress(
    `ulimit -n ${limit}: each client process holds ${fmt(sessions)} connections and each server ${fmt(sessions)}, in four processes (this one holds none)`,
  );
  if (limit < sessions + 1000) {
    throw new Error(`ulimit -n ${limit} is too low for ${sessions} connections in one process`);
  }
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  let instance: Instance | undefined;
  const helpers: ScriptProcess[] = [];
  const clients: Client[] = [];
  try {
    server = await startRedisServer();
    redis = new Redis(server.url);
    const env = environment(await runningRedisVersion(redis));
    instance = await startInstance({
      REDIS_URL: server.url,
      STORE: 'redis',
      SECRET_KEY: randomBytes(32).toString('base64'),
      KEY_PREFIX: 'fan',
      LOG_LEVEL: 'info',
      SSE_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
    });
    await instance.ready();
    const barePort = await freePort();
    const bare = await startScript('bare-sse-fanout.ts', [String(barePort)], {
      readyLine: /listening/,
      profile: true,
    });
    helpers.push(bare);
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const oursClient = new Client(await startScript('sse-client-process.ts', [], { ipc: true }));
    helpers.push(oursClient.proc);
    clients.push(oursClient);
    const bareClient = new Client(await startScript('sse-client-process.ts', [], { ipc: true }));
    helpers.push(bareClient.proc);
    clients.push(bareClient);
    progress(
      `redis-server pid ${server.pid}; instance pid ${instance.pid}; bare server pid ${bare.pid}; clients pid ${oursClient.proc.pid} (ours), ${bareClient.proc.pid} (baseline)`,
    );
    const ours = oursBroadcast(instance);
    const baseline = bareBroadcast(bareUrl);
    // the command path once before measuring memory, so its first-use allocations are not counted
    for (let i = 0; i < 5; i++) await ours(-1000 - i, nowMs());
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const bareMemory = await openSessions(
      bareClient,
      bare.pid,
      `${bareUrl}/events?bench=1`,
      sessions,
      'retry',
      'baseline',
    );
    const oursMemory = await openSessions(
      oursClient,
      instance.pid,
      `${instance.url}/events?bench=1`,
      sessions,
      'session.opened',
      'ours',
    );

    const pids = {
      instance: instance.pid,
      redis: server.pid,
      bare: bare.pid,
      oursClient: oursClient.proc.pid,
      bareClient: bareClient.proc.pid,
    };
    progress(
      `${PACED} broadcasts ${GAP_MS} ms apart, then ${BACK_TO_BACK} back to back, to ${fmt(sessions)} sessions; ${rounds} rounds per side, alternating`,
    );
    let base = 0;
    const next = () => {
      const b = base;
      base += BROADCASTS;
      return b;
    };
    await round('baseline warm-up', bareClient, baseline, next(), bare.pid, pids);
    await round('ours warm-up', oursClient, ours, next(), instance.pid, pids);
    progress('warm-up done (one round per side, not counted)');
    const oursRounds: FanoutRound[] = [];
    const bareRounds: FanoutRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const b = await round(
        `baseline round ${i + 1}`,
        bareClient,
        baseline,
        next(),
        bare.pid,
        pids,
      );
      bareRounds.push(b);
      progress(line(`round ${i + 1}/${rounds} baseline`, b));
      const o = await round(`ours round ${i + 1}`, oursClient, ours, next(), instance.pid, pids);
      oursRounds.push(o);
      progress(
        `${line(`round ${i + 1}/${rounds} ours    `, o)}  ratio ${(o.rate / b.rate).toFixed(2)}`,
      );
    }
    const o = summary(oursRounds);
    const b = summary(bareRounds);
    const ratio = ratioOf(o.rate, b.rate);
    const targetsMet = {
      ratio: ratio >= 0.9,
      p99: o.p99Ms <= 250,
      kbPerSession: oursMemory.kbPerSession <= 22,
    };
    progress(
      `median: ours ${fmt(o.rate)} deliveries/s p99 ${o.p99Ms} ms ${oursMemory.kbPerSession} KB/session; baseline ${fmt(b.rate)} deliveries/s p99 ${b.p99Ms} ms ${bareMemory.kbPerSession} KB/session; ratio ${ratio}`,
    );
    writeResult({
      name: 'fanout',
      ...env,
      loadAvgEnd: loadAverages(),
      params: {
        sessions,
        paced: PACED,
        gapMs: GAP_MS,
        backToBack: BACK_TO_BACK,
        rounds,
        order: 'warm-up (one round each, not counted), then baseline, ours, …',
        ulimitN: limit,
        sseMaxConnections: MAX_CONNECTIONS,
        openBatch: OPEN_BATCH,
      },
      ours: {
        name: 'message.broadcast as admin → 10 000 SSE sessions on one instance',
        figure: o.rate,
        unit: 'deliveries/s',
        ...o,
        ...oursMemory,
        targetsMet,
      },
      baseline: {
        name: 'bare node http: res.write of the same frame to 10 000 responses',
        figure: b.rate,
        unit: 'deliveries/s',
        ...b,
        ...bareMemory,
      },
      ratio,
      ...pairRatios(oursRounds, bareRounds),
      target: 'ratio >= 0.9, p99 <= 250 ms, <= 22 KB/session',
      notes:
        'Each side has its own client process (10 000 connections each) and keeps its sessions ' +
        'open through all rounds. Ours includes the whole path of a broadcast: JSON-RPC call, ' +
        'command stream, worker, append with its notification, the writer’s fast path to the ' +
        'hub and the writes; the baseline gets the frame by a POST and writes it. A back-to-back ' +
        'broadcast is sent when the previous one was answered (ours answers after handling, the ' +
        'baseline after its writes). Ours runs its default 15 s shared heartbeat; the baseline ' +
        'has none. The paced phase offers 200 000 deliveries/s (20 × 10 000 in 1 s), more than ' +
        'either side delivers on 2 cores shared with its client process, so its latencies are ' +
        'mostly queueing (see paced / backToBack). The clients use keepAliveMsecs 60 s: at the ' +
        'agent default (1 s) the kernel sends ~10 000 TCP keep-alive probes/s to the idle ' +
        'sessions, which cost both sides CPU. cpuS: CPU seconds per process during the round ' +
        '(2 cores shared by all).',
    });
  } finally {
    for (const c of clients) {
      if (c.proc.child.connected) c.proc.child.send({ op: 'close' } satisfies ClientRequest);
    }
    for (const h of helpers) await h.stop();
    await instance?.stop();
    redis?.disconnect();
    await server?.stop();
  }
}
