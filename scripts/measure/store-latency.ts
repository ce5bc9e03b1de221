/**
 * What STORE=eventstoredb costs in latency against STORE=redis, in one run on one machine:
 * `node --import tsx scripts/measure/store-latency.ts [moves per side, default 600] [rate/s, 100]`.
 * Per side: two instances (A answers the moves, B holds an SSE session) on a private redis-server;
 * the eventstoredb side's events go to the protocol-level EventStoreDB test double
 * (test/support/eventstore-double), in this process — not a real server, so only the shape of
 * the difference is measured: the extra hop of the notifier (the reply and the notification wait
 * for it to read the append back from `$all`), not EventStoreDB's own write latency. Sends at a
 * fixed rate (open loop) with fresh trainers, each move matched to its notification by
 * (trainerId, version). Prints p50/p99 of the answer (send → JSON-RPC result on A) and of the
 * notification (send → `position.update` on B).
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { startEventStoreDouble } from '../../test/support/eventstore-double/index.js';
import { nowMs, openSse, postJson, startInstance } from '../bench/realtime-lib.js';
import { startRedisServer } from '../lib/redis-server.js';

const MOVES = Number(process.argv[2] ?? 600);
const RATE = Number(process.argv[3] ?? 100);

interface Side {
  readonly name: string;
  readonly env: Record<string, string>;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function measure(side: Side, redisUrl: string) {
  const env = {
    ...side.env,
    REDIS_URL: redisUrl,
    KEY_PREFIX: `lat-${side.name.split(' ')[0]}-${randomBytes(3).toString('hex')}`,
    SECRET_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'warn',
  };
  const [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
  await Promise.all([a.ready(), b.ready()]);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const notified = new Map<string, number>();
  const sse = await openSse(`${b.url}/events?userId=watcher&topics=trainer.>`, (frame, at) => {
    if (frame.event !== 'position.update') return;
    const { params } = JSON.parse(frame.data) as { params: { trainerId: string; version: number } };
    notified.set(`${params.trainerId}/${params.version}`, at);
  });
  const sent = new Map<string, number>();
  const answers: number[] = [];
  const run = randomBytes(3).toString('hex');
  const sends: Promise<void>[] = [];
  const started = nowMs();
  for (let i = 0; i < MOVES; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - nowMs();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const trainerId = `m${run}${i}`;
    const at = nowMs();
    sends.push(
      postJson(
        `${a.url}/rpc`,
        {
          jsonrpc: '2.0',
          id: i,
          method: 'trainer.move',
          params: { action: 'start', directionX: 1, directionY: 0 },
        },
        { agent, headers: { 'X-User-Id': trainerId } },
      ).then(({ body }) => {
        const result = (body as { result?: { version: number } }).result;
        if (!result) throw new Error(`move ${i} failed: ${JSON.stringify(body).slice(0, 200)}`);
        answers.push(nowMs() - at);
        sent.set(`${trainerId}/${result.version}`, at);
      }),
    );
  }
  await Promise.all(sends);
  for (let waited = 0; notified.size < MOVES && waited < 10_000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const notes = [...sent].flatMap(([key, at]) => {
    const got = notified.get(key);
    return got === undefined ? [] : [got - at];
  });
  sse.close();
  agent.destroy();
  await Promise.all([a.stop(), b.stop()]);
  return {
    side: side.name,
    answerP50: quantile(answers, 0.5),
    answerP99: quantile(answers, 0.99),
    notifyP50: quantile(notes, 0.5),
    notifyP99: quantile(notes, 0.99),
    notified: notes.length,
  };
}

const redis = await startRedisServer();
const double = await startEventStoreDouble();
try {
  const sides: Side[] = [
    { name: 'redis', env: { STORE: 'redis' } },
    {
      name: 'eventstoredb (test double)',
      env: { STORE: 'eventstoredb', EVENTSTORE_CONNECTION_STRING: double.connectionString },
    },
  ];
  process.stdout.write(`${MOVES} moves at ${RATE}/s per side; ms, send → answer / notification\n`);
  for (const round of [1, 2]) {
    for (const side of sides) {
      const r = await measure(side, redis.url);
      process.stdout.write(
        `round ${round} ${r.side.padEnd(27)} answer p50 ${r.answerP50.toFixed(1)} p99 ${r.answerP99.toFixed(1)} · notification p50 ${r.notifyP50.toFixed(1)} p99 ${r.notifyP99.toFixed(1)} (${r.notified}/${MOVES} matched)\n`,
      );
    }
  }
} finally {
  await double.stop();
  await redis.stop();
}
