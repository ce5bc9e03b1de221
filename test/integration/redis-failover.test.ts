/**
 * Redis Cluster failover under load (issue 14): three instances take moves on a private cluster
 * (3 masters, a replica each) while SSE clients follow trainer streams. The master holding the
 * partition is cut off from its replica for a moment (its replica cannot re-authenticate, so the
 * writes of that moment reach no replica), then SIGKILLed; its replica is promoted without those
 * writes; the killed node is started again and rejoins as a replica.
 *
 * With REDIS_WAIT_REPLICAS=1 none of those writes was answered as done: they were answered -32030,
 * retried with the same command id and handled again on the new master, so every command answered
 * with a result is in the log exactly once. With REDIS_WAIT_REPLICAS=0 they were answered and are
 * gone: the test reports how many, and that every instance detected the loss (G5).
 */
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import type { RedisCluster } from '../../scripts/lib/redis-cluster.js';
import { type Partitioning, partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { eventsByCommand } from '../support/global-log.js';
import { startMoves } from '../support/moves.js';
import { parseExposition, sampleValue } from '../support/prometheus.js';
import { readyStatus } from '../support/readiness.js';
import { cutReplication, describeWithRedisCluster, replicaOf } from '../support/redis-cluster.js';
import { readinessOf, StreamFollower } from '../support/restart.js';
import { CLUSTER_PARTITIONS, clusterTestClient } from '../support/topologies.js';

const TRAINERS = 6;
/** PARTITIONS of the instances: the cluster topology's (FAILOVER_PARTITIONS=1 runs today's layout). */
const PARTITIONS = process.env.FAILOVER_PARTITIONS ?? String(CLUSTER_PARTITIONS);
/** How long the partition's master takes writes that reach no replica before it is killed. */
const CUT_MS = 1500;
/** A detected loss keeps /readyz failing for a minute (LogWatch); then it must be 200 again. */
const READY_AGAIN_MS = 90_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startInstances(cluster: RedisCluster, prefix: string, waitReplicas: number) {
  const env = {
    REDIS_CLUSTER_NODES: cluster.nodes.join(','),
    PARTITIONS,
    REDIS_WAIT_REPLICAS: String(waitReplicas),
    REDIS_WAIT_TIMEOUT_MS: '1000',
    KEY_PREFIX: prefix,
    SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
    COMMAND_TIMEOUT_MS: '4000',
    SSE_RETRY_MS: '200',
    LOG_LEVEL: 'warn',
  };
  const apps = await Promise.all(
    [0, 1, 2].map((i) => startApp({ ...env, SERVER_ID: `${prefix}${i}` })),
  );
  for (const app of apps) expect(await readyStatus(app.url, 30_000), app.url).to.equal(200);
  return apps;
}

/** Per trainer stream: its versions are 1..n, and the log holds exactly those versions. */
async function streamGaps(redis: RedisClient, partitioning: Partitioning): Promise<string[]> {
  const inLog = new Map<string, number[]>();
  for (const keys of partitioning.keys) {
    for (const [, fields] of (await redis.xrange(keys.all, '-', '+')) as [string, string[]][]) {
      const stream = fields[fields.indexOf('stream') + 1]!;
      inLog.set(stream, [
        ...(inLog.get(stream) ?? []),
        Number(fields[fields.indexOf('version') + 1]),
      ]);
    }
  }
  const gaps: string[] = [];
  for (let i = 0; i < TRAINERS; i++) {
    const stream = `trainer-t${i}`;
    const keys = partitioning.keys[partitioning.of(stream)]!;
    const versions = (await redis.xrange(keys.stream(stream), '-', '+')).map(([id]) =>
      Number(id.split('-')[1]),
    );
    const whole = versions.every((v, at) => v === at + 1);
    const logged = (inLog.get(stream) ?? []).join(',') === versions.join(',');
    if (!whole || !logged)
      gaps.push(`${stream}: stream ${versions.length}, log ${inLog.get(stream)?.length}`);
  }
  return gaps;
}

/** The instance's `streamcast_event_log_losses`; NaN (reported, and failing where asserted) if /metrics fails. */
async function lossesOn(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  if (res.status === 200) {
    return sampleValue(parseExposition(text), 'streamcast_event_log_losses') ?? Number.NaN;
  }
  process.stdout.write(`      ${url}/metrics answered ${res.status}: ${text.slice(0, 200)}\n`);
  return Number.NaN;
}

/** What one failover run saw. */
interface FailoverRun {
  readonly answered: number;
  readonly unknownOutcomes: number;
  readonly retried: number;
  readonly lost: readonly string[];
  readonly doubled: readonly string[];
  readonly gaps: readonly string[];
  readonly losses: readonly number[];
  readonly lossLines: readonly number[];
  readonly readiness: readonly number[][];
  readonly readyAgain: readonly number[];
  readonly restarted: readonly boolean[];
  /** `/streams/trainer-…/events` clients (ids: versions). */
  readonly sse: { missing: number[]; repeated: number[]; resets: number[]; gaveUp: string[] };
  /** `/events` clients (ids: `<epoch>:<entry>`): resets, and ids received after the last one. */
  readonly notes: { resets: number[]; after: number[]; gaveUp: string[] };
}

/** One run: instances with `waitReplicas`, load, the cut, the kill, the failover, the rejoin. */
async function failover(
  cluster: RedisCluster,
  prefix: string,
  waitReplicas: number,
): Promise<FailoverRun> {
  const apps: AppProcess[] = await startInstances(cluster, prefix, waitReplicas);
  const urls = apps.map((a) => a.url);
  const redis = clusterTestClient(cluster);
  const partitioning = partitioningFor(prefix, Number(PARTITIONS));
  const streamKeys = (stream: string) => partitioning.keys[partitioning.of(stream)]!;
  try {
    let watching = true;
    const readiness = Promise.all(urls.map((u) => readinessOf(u, () => watching)));
    const load = startMoves({ urls: () => urls, trainers: TRAINERS, inFlight: 6 });
    await sleep(1000); // every trainer has events before the clients follow
    const followers = Array.from(
      { length: TRAINERS },
      (_, i) => new StreamFollower(urls, `t${i}`, i % 3),
    );
    const notes = Array.from(
      { length: TRAINERS },
      (_, i) => new StreamFollower(urls, `t${i}`, (i + 1) % 3, '/events'),
    );
    await sleep(1500);

    // the master holding trainer t0's partition (with PARTITIONS=6, it holds another one too)
    const master = await cluster.masterOf(streamKeys('trainer-t0').all);
    const replica = await replicaOf(cluster, master);
    const cut = await cutReplication(master, replica);
    const answeredBeforeCut = load.answers.length;
    await sleep(CUT_MS);
    await cluster.kill(master);
    const answeredAtKill = load.answers.length;
    const { promoted, ms } = await cluster.waitForFailover(master);
    await cut.heal();
    const rejoined = await cluster.restart(master);
    process.stdout.write(
      `      [WAIT ${waitReplicas}] partition on ${master}, replica ${replica} cut off for ${CUT_MS} ms (${answeredAtKill - answeredBeforeCut} moves answered meanwhile), killed; ${promoted} promoted in ${ms} ms; ${master} back as ${rejoined.role}\n`,
    );
    expect(promoted).to.equal(replica);
    expect(rejoined.role).to.equal('replica');

    // the loss checks (log every 500 ms, notifications epoch every 2 s) have run before readiness
    // is judged: a 200 before them would not show the instances recovered from what they find
    await sleep(3000);
    const readyAgain = await Promise.all(urls.map((u) => readyStatus(u, READY_AGAIN_MS)));
    await sleep(1500);
    await load.stop();
    watching = false;

    const byCommand = await eventsByCommand(redis, prefix, partitioning.count);
    const answered = load.answers.map((a) => a.commandId);
    const heads = await Promise.all(
      followers.map((f) => redis.xlen(streamKeys(`trainer-${f.user}`).stream(`trainer-${f.user}`))),
    );
    for (const [i, f] of followers.entries()) {
      const deadline = Date.now() + 15_000;
      while ((f.versions.at(-1) ?? 0) < heads[i]! && Date.now() < deadline) await sleep(100);
    }
    await sleep(500);
    for (const f of [...followers, ...notes]) f.stop();
    const missing = followers.map((f, i) => {
      const first = f.versions[0] ?? 1;
      const want = Array.from({ length: heads[i]! - first + 1 }, (_, v) => v + first);
      return f.resets ? 0 : want.filter((v) => !f.versions.includes(v)).length;
    });
    return {
      answered: answered.length,
      unknownOutcomes: load.unknownOutcomes,
      retried: load.retries,
      lost: answered.filter((id) => !byCommand.has(id)),
      doubled: answered.filter((id) => (byCommand.get(id) ?? 0) > 1),
      gaps: await streamGaps(redis, partitioning),
      losses: await Promise.all(urls.map(lossesOn)),
      lossLines: apps.map((a) => a.output().match(/the event log went back/g)?.length ?? 0),
      readiness: await readiness,
      readyAgain,
      restarted: await Promise.all(
        apps.map((a) => Promise.race([a.exited.then(() => true), sleep(10).then(() => false)])),
      ),
      sse: {
        missing,
        repeated: followers.map((f) =>
          f.resets ? 0 : f.versions.length - new Set(f.versions).size,
        ),
        resets: followers.map((f) => f.resets),
        gaveUp: followers.map((f) => f.gaveUp ?? 'following'),
      },
      notes: {
        resets: notes.map((f) => f.resets),
        after: notes.map((f) => f.ids.length - f.idsAtReset),
        gaveUp: notes.map((f) => f.gaveUp ?? 'following'),
      },
    };
  } finally {
    redis.disconnect();
    await Promise.all(apps.map((a) => a.stop('SIGKILL')));
  }
}

function report(waitReplicas: number, run: FailoverRun): void {
  process.stdout.write(
    `      [WAIT ${waitReplicas}] ${run.answered} moves answered, ${run.unknownOutcomes} tries answered -32030, ${run.retried} tries retried with the same id, ${run.lost.length} answered and lost, ${run.doubled.length} doubled, stream gaps ${run.gaps.length}; loss detected: streamcast_event_log_losses ${run.losses.join('/')}, error lines ${run.lossLines.join('/')}; SSE /streams: resets ${run.sse.resets.join('/')}, missing ${run.sse.missing.join('/')}, repeated ${run.sse.repeated.join('/')}; SSE /events: resets ${run.notes.resets.join('/')}, then ${run.notes.after.join('/')} ids; readiness ${run.readiness.map((x) => x.join('→')).join(', ')}\n`,
  );
}

/** What both runs must show: nothing doubled, no gap, clients following, instances ready again. */
function expectRecovered(run: FailoverRun): void {
  expect(run.doubled, 'answered twice in the log').to.deep.equal([]);
  expect(run.gaps, 'trainer streams with a gap').to.deep.equal([]);
  expect([...run.sse.gaveUp, ...run.notes.gaveUp]).to.deep.equal(Array(12).fill('following'));
  expect(
    run.notes.after.every((n) => n > 0),
    '/events clients receive again',
  ).to.equal(true);
  expect(run.readyAgain, 'ready again').to.deep.equal([200, 200, 200]);
  expect(
    run.readiness.map((seen) => seen.at(-1)),
    'ready at the end',
  ).to.deep.equal([200, 200, 200]);
  expect(run.restarted, 'no instance restarted').to.deep.equal([false, false, false]);
}

describeWithRedisCluster(
  `Redis Cluster failover under load (PARTITIONS=${PARTITIONS})`,
  function (cluster) {
    this.timeout(240_000);

    it('REDIS_WAIT_REPLICAS=1: nothing answered is lost; instances and SSE clients recover by themselves', async () => {
      const run = await failover(cluster(), 'fo1', 1);
      report(1, run);
      expect(run.unknownOutcomes, 'the fault must bite: WAIT fell short').to.be.greaterThan(0);
      expect(run.lost, 'answered and lost').to.deep.equal([]);
      expectRecovered(run);
      expect(run.sse.missing, 'events missed per client (unless reset)').to.deep.equal([
        0, 0, 0, 0, 0, 0,
      ]);
      expect(run.sse.repeated, 'events repeated per client (unless reset)').to.deep.equal([
        0, 0, 0, 0, 0, 0,
      ]);
    });

    it('REDIS_WAIT_REPLICAS=0: reports what was lost, and every instance detected the loss', async () => {
      const run = await failover(cluster(), 'fo0', 0);
      report(0, run);
      expect(run.lost.length, 'the fault must bite: answered moves were lost').to.be.greaterThan(0);
      // one per partition that went back: the killed master held one (two with PARTITIONS=6)
      expect(
        run.losses.every((n) => n >= 1),
        'every instance counted the loss',
      ).to.equal(true);
      expect(
        run.lossLines.every((n) => n >= 1),
        'every instance logged it',
      ).to.equal(true);
      expectRecovered(run);
      expect(
        run.notes.resets.every((n) => n > 0),
        '/events clients told stream.reset',
      ).to.equal(true);
    });
  },
);
