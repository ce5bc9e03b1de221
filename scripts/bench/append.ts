/**
 * `append` (BENCH.md): EventStore.append of one ~250-byte event with an exact expectedVersion and
 * a command id, 64 in flight over 1000 streams, against the same two XADDs pipelined by a bare
 * ioredis client, on one private redis-server, in alternating rounds.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_STORE_SETTINGS, keysFor, RedisEventStore } from '../../src/index.js';
import { startRedisServer } from '../lib/redis-server.js';
import {
  alternate,
  environment,
  quantile,
  type Round,
  redisVersion,
  summarise,
  writeResult,
} from './lib.js';

const IN_FLIGHT = 64;
const STREAMS = 1000;

const payload = {
  trainerId: 'trainer-0000',
  action: 'start',
  position: { x: 1234.5678, y: -987.6543 },
  movement: {
    isMoving: true,
    direction: { x: 0.6, y: 0.8 },
    speed: 5,
    startedAt: '2026-11-22T18:00:00.000Z',
  },
  at: '2026-11-22T18:00:01.000Z',
  note: 'x'.repeat(40),
};

/**
 * Runs `total` appends with 64 workers; worker w owns streams w, w+64, … so no two in-flight
 * appends share a stream and every expected version is exact.
 */
async function drive(
  total: number,
  appendOne: (stream: number, version: number) => Promise<void>,
): Promise<Round> {
  const versions = new Array<number>(STREAMS).fill(0);
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, w) => {
      const owned = Array.from(
        { length: Math.ceil(STREAMS / IN_FLIGHT) },
        (_, k) => w + k * IN_FLIGHT,
      ).filter((s) => s < STREAMS);
      for (let k = 0; issued < total; k++) {
        issued += 1;
        const stream = owned[k % owned.length]!;
        const t = performance.now();
        await appendOne(stream, versions[stream]!);
        latencies.push(performance.now() - t);
        versions[stream]! += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    rate: total / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Runs the benchmark and writes bench/results/append.json. */
export async function benchAppend(options: { rounds: number; perRound: number }): Promise<void> {
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  try {
    const expectGrowth = async (key: string, before: number, by: number) => {
      const after = await redis.xlen(key);
      if (after - before !== by)
        throw new Error(`${key} grew by ${after - before}, expected ${by}: work was lost`);
    };
    const data = JSON.stringify(payload);
    const { ours, baseline } = await alternate(
      options.rounds,
      {
        baseline: async (i) => {
          const prefix = `base${i}`;
          const all = `{${prefix}}:all`;
          const before = await redis.xlen(all);
          const meta = JSON.stringify({
            correlationId: randomUUID(),
            serverId: 'bench',
            timestamp: new Date().toISOString(),
          });
          const round = await drive(options.perRound, async (stream, version) => {
            await redis
              .pipeline()
              .xadd(
                `{${prefix}}:s:trainer-${stream}`,
                `0-${version + 1}`,
                'id',
                randomUUID(),
                'type',
                'TrainerMoved',
                'data',
                data,
                'meta',
                meta,
              )
              .xadd(
                all,
                '*',
                'stream',
                `trainer-${stream}`,
                'version',
                version + 1,
                'id',
                randomUUID(),
                'type',
                'TrainerMoved',
                'data',
                data,
                'meta',
                meta,
              )
              .exec();
          });
          await expectGrowth(all, before, options.perRound);
          return round;
        },
        ours: async (i) => {
          const keys = keysFor(`ours${i}`);
          const store = new RedisEventStore(redis, keys, {
            ...DEFAULT_STORE_SETTINGS,
            serverId: 'bench',
          });
          const before = await redis.xlen(keys.all);
          let conflicts = 0;
          const round = await drive(options.perRound, async (stream, version) => {
            const r = await store.append(
              `trainer-${stream}`,
              [{ type: 'TrainerMoved', data: payload }],
              {
                expectedVersion: version,
                idempotencyKey: randomUUID(),
              },
            );
            if (r.duplicate) conflicts += 1;
          });
          if (conflicts > 0) throw new Error(`${conflicts} appends were treated as duplicates`);
          await expectGrowth(keys.all, before, options.perRound);
          return round;
        },
      },
      'appends/s',
    );
    const o = summarise(ours);
    const b = summarise(baseline);
    writeResult({
      name: 'append',
      ...environment(redisVersion()),
      params: {
        inFlight: IN_FLIGHT,
        streams: STREAMS,
        dataBytes: Buffer.byteLength(data),
        rounds: options.rounds,
        perRound: options.perRound,
      },
      ours: { figure: o.rate, unit: 'appends/s', ...o },
      baseline: { name: 'pipelined XADD pair (bare ioredis)', figure: b.rate, ...b },
      ratio: Math.round((o.rate / b.rate) * 100) / 100,
      target: 'ratio >= 0.9',
    });
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
