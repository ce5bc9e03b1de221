/**
 * The `fanout` client as its own process (started by fanout.ts with an IPC channel): opens many
 * SSE connections with plain `http.get` (one keep-alive agent, no socket limit) and a minimal
 * frame parser, then counts every delivery of a round's broadcasts per session and its latency
 * from the `sentAt` it carries (realtime-lib's `nowMs` clock, comparable across processes on one
 * machine; each chunk is stamped when it arrives).
 *
 * Messages in (`op`): `open` {url, count, batch, ready} → `opened`; `arm` {base, broadcasts} →
 * `armed`; `wait` {from, to, timeoutMs} → `waited` once every session has broadcasts
 * base+from … base+to−1 (or the timeout passed); `report` → `report` (the round's figures);
 * `close` → exits. Progress lines go to stdout.
 */
import { Agent } from 'node:http';
import { openSse, type SseStream, sortedQuantile } from './realtime-lib.js';
import type { SseFrame } from './sse-parser.js';

/** What the parent sends. */
export type ClientRequest =
  | {
      readonly op: 'open';
      /** Each connection gets `&userId=<prefix><n>` appended. */
      readonly url: string;
      readonly userPrefix: string;
      readonly count: number;
      /** Connections being opened at once. */
      readonly batch: number;
      /** The frame that says a session is live: `session.opened` (streamcast) or `retry`. */
      readonly ready: 'session.opened' | 'retry';
      readonly label: string;
    }
  | {
      readonly op: 'arm';
      readonly base: number;
      readonly broadcasts: number;
      /** Where the second phase starts (index): latencies are also reported per phase. */
      readonly split: number;
    }
  | { readonly op: 'wait'; readonly from: number; readonly to: number; readonly timeoutMs: number }
  | { readonly op: 'report' }
  | { readonly op: 'close' };

/** A round's figures, as reported. */
export interface ClientReport {
  readonly sessions: number;
  readonly expected: number;
  readonly deliveries: number;
  readonly duplicates: number;
  /** Frames of `event` `message.bench` whose seq is not one of this round's. */
  readonly strays: number;
  /** Sessions that did not get every broadcast of the round exactly once. */
  readonly incompleteSessions: number;
  /** Sessions whose connection ended. */
  readonly closedSessions: number;
  /** Per broadcast (index = seq − base): deliveries, and first/last arrival (`nowMs`). */
  readonly perBroadcast: readonly { count: number; first: number; last: number }[];
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** p50/p99 of the broadcasts before `split`, and from it on. */
  readonly phases: readonly { p50Ms: number; p99Ms: number }[];
  /** Other frames seen during the round (heartbeat pings). */
  readonly otherFrames: number;
}

/** What the client sends back. */
export type ClientReply =
  | { readonly op: 'opened'; readonly count: number; readonly seconds: number }
  | { readonly op: 'armed' }
  | {
      readonly op: 'waited';
      readonly ok: boolean;
      readonly missing: number;
      /** When some are missing: how many sessions miss any, and the missing count per broadcast. */
      readonly sessionsMissing?: number;
      readonly missingPerBroadcast?: readonly number[];
      /** Sessions whose connection ended so far. */
      readonly closedSessions?: number;
    }
  | { readonly op: 'report'; readonly report: ClientReport }
  | { readonly op: 'error'; readonly message: string };

const send = (reply: ClientReply) => process.send!(reply);

const streams: SseStream[] = [];
let closed = 0;

/** The round being counted. */
let round = {
  base: 0,
  n: 0,
  split: 0,
  counts: new Uint8Array(0),
  latencies: new Float64Array(0),
  delivered: 0,
  duplicates: 0,
  strays: 0,
  other: 0,
  perCount: new Int32Array(0),
  perFirst: new Float64Array(0),
  perLast: new Float64Array(0),
};

function onBench(session: number, frame: SseFrame, at: number): void {
  const { params } = JSON.parse(frame.data) as { params: { seq: number; sentAt: number } };
  const r = round;
  const i = params.seq - r.base;
  if (!(i >= 0 && i < r.n)) {
    r.strays += 1;
    return;
  }
  const slot = session * r.n + i;
  if (r.counts[slot]! > 0) {
    r.duplicates += 1;
    r.counts[slot] = Math.min(255, r.counts[slot]! + 1);
    return;
  }
  r.counts[slot] = 1;
  r.latencies[slot] = at - params.sentAt;
  r.delivered += 1;
  if (r.perCount[i] === 0) r.perFirst[i] = at;
  r.perCount[i]! += 1;
  if (at > r.perLast[i]!) r.perLast[i] = at;
}

async function open(request: Extract<ClientRequest, { op: 'open' }>): Promise<void> {
  // keepAliveMsecs: the agent turns on TCP keep-alive with this idle time; at the default 1 s the
  // kernel probes every idle connection every second (~10 000 probes/s here), noise for both sides
  const agent = new Agent({
    keepAlive: true,
    keepAliveMsecs: 60_000,
    maxSockets: Number.POSITIVE_INFINITY,
  });
  const started = performance.now();
  let next = 0;
  let done = 0;
  let lastShown = 0;
  const openOne = async (session: number) => {
    let live!: () => void;
    const isLive = new Promise<void>((resolve) => {
      live = resolve;
    });
    const onFrame = (frame: SseFrame, at: number) => {
      if (frame.event === 'message.bench') onBench(session, frame, at);
      else if (
        request.ready === 'session.opened'
          ? frame.event === 'session.opened'
          : frame.retry !== undefined
      )
        live();
      else round.other += 1;
    };
    const stream = await openSse(`${request.url}&userId=${request.userPrefix}${session}`, onFrame, {
      agent,
    });
    streams[session] = stream;
    void stream.ended.then(() => {
      closed += 1;
    });
    await Promise.race([
      isLive,
      stream.ended.then(() => {
        throw new Error(`session ${session} ended before it was live`);
      }),
    ]);
  };
  const worker = async () => {
    while (next < request.count) {
      const session = next++;
      await openOne(session);
      done += 1;
      if (done - lastShown >= 1000 || done === request.count) {
        lastShown = done;
        const s = (performance.now() - started) / 1000;
        process.stdout.write(
          `  ${request.label}: ${done.toLocaleString('en-US')}/${request.count.toLocaleString('en-US')} sessions open (${Math.round(done / s)}/s)\n`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: request.batch }, worker));
  send({ op: 'opened', count: streams.length, seconds: (performance.now() - started) / 1000 });
}

function arm(base: number, n: number, split: number): void {
  const sessions = streams.length;
  round = {
    base,
    n,
    split,
    counts: new Uint8Array(sessions * n),
    latencies: new Float64Array(sessions * n),
    delivered: 0,
    duplicates: 0,
    strays: 0,
    other: 0,
    perCount: new Int32Array(n),
    perFirst: new Float64Array(n),
    perLast: new Float64Array(n),
  };
  send({ op: 'armed' });
}

async function wait(from: number, to: number, timeoutMs: number): Promise<void> {
  const sessions = streams.length;
  const deadline = performance.now() + timeoutMs;
  const missing = () => {
    let m = 0;
    for (let i = from; i < to; i++) m += sessions - round.perCount[i]!;
    return m;
  };
  while (missing() > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const m = missing();
  if (m === 0) {
    send({ op: 'waited', ok: true, missing: 0 });
    return;
  }
  let sessionsMissing = 0;
  for (let s = 0; s < sessions; s++) {
    for (let i = from; i < to; i++) {
      if (round.counts[s * round.n + i] === 0) {
        sessionsMissing += 1;
        break;
      }
    }
  }
  send({
    op: 'waited',
    ok: false,
    missing: m,
    sessionsMissing,
    missingPerBroadcast: Array.from(
      { length: to - from },
      (_, k) => sessions - round.perCount[from + k]!,
    ),
    closedSessions: closed,
  });
}

function report(): void {
  const r = round;
  const sessions = streams.length;
  let incomplete = 0;
  for (let s = 0; s < sessions; s++) {
    for (let i = 0; i < r.n; i++) {
      if (r.counts[s * r.n + i] !== 1) {
        incomplete += 1;
        break;
      }
    }
  }
  const two = (x: number) => Math.round(x * 100) / 100;
  const latencies = (from: number, to: number) => {
    const out: number[] = [];
    for (let s = 0; s < sessions; s++) {
      for (let i = from; i < to; i++) {
        const slot = s * r.n + i;
        if (r.counts[slot]! > 0) out.push(r.latencies[slot]!);
      }
    }
    return Float64Array.from(out).sort();
  };
  const delivered = latencies(0, r.n);
  const phases = [latencies(0, r.split), latencies(r.split, r.n)].map((l) => ({
    p50Ms: two(sortedQuantile(l, 0.5)),
    p99Ms: two(sortedQuantile(l, 0.99)),
  }));
  send({
    op: 'report',
    report: {
      sessions,
      expected: sessions * r.n,
      deliveries: r.delivered,
      duplicates: r.duplicates,
      strays: r.strays,
      incompleteSessions: incomplete,
      closedSessions: closed,
      perBroadcast: Array.from({ length: r.n }, (_, i) => ({
        count: r.perCount[i]!,
        first: r.perFirst[i]!,
        last: r.perLast[i]!,
      })),
      p50Ms: two(sortedQuantile(delivered, 0.5)),
      p90Ms: two(sortedQuantile(delivered, 0.9)),
      p99Ms: two(sortedQuantile(delivered, 0.99)),
      maxMs: two(delivered[delivered.length - 1] ?? Number.NaN),
      phases,
      otherFrames: r.other,
    },
  });
}

process.on('message', (message: ClientRequest) => {
  const run = async () => {
    switch (message.op) {
      case 'open':
        return open(message);
      case 'arm':
        return arm(message.base, message.broadcasts, message.split);
      case 'wait':
        return wait(message.from, message.to, message.timeoutMs);
      case 'report':
        return report();
      case 'close':
        for (const s of streams) s?.close();
        process.exit(0);
    }
  };
  run().catch((error: unknown) => send({ op: 'error', message: String(error) }));
});
process.on('disconnect', () => process.exit(0));
