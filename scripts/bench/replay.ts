/**
 * `replay` (BENCH.md): a rebuild of the `trainer-positions` projection (the function
 * `npm run replay` runs) over a global log of 1 000 000 TrainerMoved events, against reading the
 * same log with bare `XRANGE` batches of 1000, in alternating rounds on one private redis-server.
 * The log is written once up front (pipelined XADDs in the log's own entry format). Every round is
 * checked: the baseline read every entry; ours folded every event into one document per trainer
 * whose `moves` add up to the log's length.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  keysFor,
  RedisEventStore,
  RedisProjectionStore,
  rebuild,
  trainerPositions,
} from '../../src/index.js';
import { ProgressLine } from '../lib/progress.js';
import { startRedisServer } from '../lib/redis-server.js';
import {
  alternate,
  environment,
  fmt,
  loadAverages,
  pairRatios,
  progress,
  ratioOf,
  runningRedisVersion,
  summarise,
  warnIfBusy,
  writeResult,
} from './lib.js';

const PREFIX = 'bench';
const TRAINERS = 1000;
const BATCH = 1000;

/** Writes `total` TrainerMoved entries to the global log, as the append script lays them out. */
async function fillLog(redis: Redis, total: number): Promise<void> {
  const keys = keysFor(PREFIX);
  const bar = new ProgressLine('  writing the log', total, process.stdout);
  const meta = JSON.stringify({
    correlationId: randomUUID(),
    serverId: 'bench',
    timestamp: new Date().toISOString(),
  });
  for (let i = 0; i < total; i += BATCH) {
    const pipeline = redis.pipeline();
    for (let j = i; j < Math.min(total, i + BATCH); j++) {
      const trainerId = `t${j % TRAINERS}`;
      const at = new Date(1_790_000_000_000 + j).toISOString();
      const data = {
        trainerId,
        action: 'start',
        position: { x: j * 0.5, y: -j * 0.25 },
        movement: { isMoving: true, direction: { x: 0.6, y: 0.8 }, speed: 5, startedAt: at },
        at,
      };
      pipeline.xadd(
        keys.all,
        '*',
        'stream',
        `trainer-${trainerId}`,
        'version',
        Math.floor(j / TRAINERS) + 1,
        'id',
        randomUUID(),
        'type',
        'TrainerMoved',
        'schema',
        1,
        'data',
        JSON.stringify(data),
        'meta',
        meta,
      );
    }
    await pipeline.exec();
    bar.update(Math.min(total, i + BATCH));
  }
  bar.finish(total);
}

/** The baseline: the whole log in XRANGE batches of 1000, counting entries. */
async function bareRead(redis: Redis, total: number): Promise<number> {
  const all = keysFor(PREFIX).all;
  let after = '-';
  let read = 0;
  for (;;) {
    const entries = await redis.xrange(all, after, '+', 'COUNT', BATCH);
    read += entries.length;
    if (entries.length < BATCH) break;
    after = `(${entries.at(-1)![0]}`;
  }
  if (read !== total) throw new Error(`baseline read ${read} entries, expected ${total}`);
  return read;
}

/** Ours: a full rebuild, then checks the swapped-in read model. */
async function oursRebuild(redis: Redis, total: number): Promise<number> {
  const keys = keysFor(PREFIX);
  const events = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 'bench' });
  const store = new RedisProjectionStore(redis, keys);
  const result = await rebuild({
    events,
    store,
    projection: trainerPositions,
    owner: 'bench-replay',
    leaseTtlMs: 10_000,
  });
  if (result.events !== total)
    throw new Error(`rebuild folded ${result.events} events, expected ${total}`);
  let moves = 0;
  let docs = 0;
  let after: string | undefined;
  do {
    const page = await store.list(trainerPositions.name, {
      limit: 1000,
      ...(after ? { after } : {}),
    });
    for (const doc of page.docs) moves += doc.moves as number;
    docs += page.docs.length;
    after = page.nextCursor;
  } while (after);
  if (docs !== TRAINERS || moves !== total) {
    throw new Error(
      `read model holds ${docs} trainers and ${moves} moves, expected ${TRAINERS} and ${total}`,
    );
  }
  return result.events;
}

/** Runs the benchmark and writes bench/results/replay.json. */
export async function benchReplay(options: { rounds: number; events: number }): Promise<void> {
  const { rounds, events: total } = options;
  const server = await startRedisServer();
  const redis = new Redis(server.url);
  try {
    warnIfBusy();
    const env = environment(await runningRedisVersion(redis));
    progress(
      `redis-server pid ${server.pid} port ${server.port}; ${fmt(total)} events over ${TRAINERS} trainers; ${rounds} rounds per side`,
    );
    await fillLog(redis, total);
    const timed = async (work: () => Promise<number>) => {
      const started = performance.now();
      const n = await work();
      return { rate: n / ((performance.now() - started) / 1000) };
    };
    const { ours, baseline } = await alternate(
      rounds,
      {
        baseline: () => timed(() => bareRead(redis, total)),
        ours: () => timed(() => oursRebuild(redis, total)),
      },
      'events/s',
    );
    const o = summarise(ours);
    const b = summarise(baseline);
    const ratio = ratioOf(o.rate, b.rate);
    progress(
      `median: ours ${fmt(o.rate)} events/s, baseline ${fmt(b.rate)} events/s, ratio ${ratio}`,
    );
    writeResult({
      name: 'replay',
      ...env,
      loadAvgEnd: loadAverages(),
      params: {
        events: total,
        trainers: TRAINERS,
        batch: BATCH,
        rounds,
        order: 'baseline, ours, …',
      },
      ours: {
        name: 'rebuild of trainer-positions (npm run replay)',
        figure: o.rate,
        unit: 'events/s',
        ...o,
      },
      baseline: { name: 'bare XRANGE batches of 1000', figure: b.rate, unit: 'events/s', ...b },
      ratio,
      ...pairRatios(ours, baseline),
      target: 'ratio >= 0.5',
      notes:
        'Ours reads the same batches through RedisEventStore.readAll (decoding each event), computes ' +
        'the writes, coalesces them per trainer and commits each batch with its checkpoint in one ' +
        'script into a new generation, then takes the lease and swaps; the baseline only reads. ' +
        'Each round of ours starts a new generation and deletes the previous one.',
    });
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
