/**
 * `cluster` (BENCH.md): the `commands` benchmark at PARTITIONS=16 on a local Redis Cluster (3
 * masters, 1 replica each) and, in the same run, at PARTITIONS=16 on one redis-server. This machine
 * has 2 cores, so throughput cannot show scaling; the figures are each master's share of the
 * masters' Redis CPU (target: none above 40 %) and the masters' Redis CPU per command against the
 * single node's (target ≤ 1.25×); the replicas' CPU is reported apart.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, silentLogger } from '../../src/index.js';
import { openBackend } from '../../src/wiring/backend.js';
import { type AppProcess, startApp } from '../lib/app-process.js';
import { type RedisCluster, startRedisCluster } from '../lib/redis-cluster.js';
import { startRedisServer } from '../lib/redis-server.js';
import { environment, median, progress, redisVersion, sendMoves, writeResult } from './lib.js';

const PARTITIONS = 16;
const IN_FLIGHT = 256;
const TRAINERS = 1000;
const WORKERS = 2;

/** Where a round runs: the instances' Redis settings and the nodes whose CPU is read. */
interface Target {
  readonly env: Record<string, string>;
  /** Masters (and replicas, for the cluster) as `host:port`. */
  readonly masters: readonly string[];
  readonly replicas: readonly string[];
}

/** One round: commands/s and Redis CPU µs per command of each master and replica. */
interface ClusterRound {
  readonly rate: number;
  readonly masterUs: readonly number[];
  readonly replicaUs: readonly number[];
}

/** Redis CPU (user + sys) of a node so far, in µs. */
async function nodeCpuUs(node: string): Promise<number> {
  const at = node.lastIndexOf(':');
  const redis = new Redis({ host: node.slice(0, at), port: Number(node.slice(at + 1)) });
  try {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
  } finally {
    redis.disconnect();
  }
}

const cpuOf = (nodes: readonly string[]) => Promise.all(nodes.map(nodeCpuUs));

async function round(target: Target, label: string, total: number): Promise<ClusterRound> {
  const prefix = `cl${label}${randomBytes(2).toString('hex')}`;
  const env = {
    ...target.env,
    PARTITIONS: String(PARTITIONS),
    SECRET_KEY: randomBytes(32).toString('base64'),
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'info',
  };
  const instances: AppProcess[] = await Promise.all(
    Array.from({ length: WORKERS }, (_, w) =>
      startApp({ ...env, SERVER_ID: `bench-${label}-${w}` }),
    ),
  );
  await Promise.all(instances.map((p) => p.waitForLine(/start-up checks passed/)));
  // the sender is an instance's own backend (the same routing), serving nothing
  const backend = openBackend(
    loadConfig({ ...env, SERVER_ID: `bench-sender-${label}`, COMMAND_TIMEOUT_MS: '60000' }),
    silentLogger,
  );
  try {
    await new Promise((r) => setTimeout(r, 500)); // the sender's reply subscriptions
    const masters0 = await cpuOf(target.masters);
    const replicas0 = await cpuOf(target.replicas);
    const started = performance.now();
    const failed = await sendMoves(
      (command) => backend.bus.send(command),
      total,
      IN_FLIGHT,
      TRAINERS,
    );
    const seconds = (performance.now() - started) / 1000;
    const masters1 = await cpuOf(target.masters);
    const replicas1 = await cpuOf(target.replicas);
    if (failed > 0) throw new Error(`work not done: ${failed} of ${total} commands failed`);
    const per = (a: readonly number[], b: readonly number[]) =>
      b.map((v, i) => Math.round(((v - a[i]!) / total) * 10) / 10);
    return {
      rate: total / seconds,
      masterUs: per(masters0, masters1),
      replicaUs: per(replicas0, replicas1),
    };
  } finally {
    await backend.close();
    await Promise.all(instances.map((p) => p.stop('SIGTERM')));
  }
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function describeRound(r: ClusterRound): string {
  const masters = sum(r.masterUs);
  const shares = r.masterUs.map((us) => `${Math.round((us / masters) * 100)}%`).join('/');
  return `${Math.round(r.rate)} commands/s, masters ${masters.toFixed(1)} µs/command (shares ${shares}), replicas ${sum(r.replicaUs).toFixed(1)} µs/command`;
}

/** Runs the benchmark and writes bench/results/cluster.json. */
export async function benchCluster(options: { rounds: number; total: number }): Promise<void> {
  progress(
    `${options.total} commands per round, PARTITIONS=${PARTITIONS}, ${IN_FLIGHT} in flight, ${WORKERS} instances; cluster of 3 masters + 3 replicas vs one redis-server`,
  );
  const server = await startRedisServer();
  let cluster: RedisCluster | undefined;
  try {
    cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
    const onCluster: Target = {
      env: { REDIS_CLUSTER_NODES: cluster.nodes.join(',') },
      masters: await cluster.masters(),
      replicas: await cluster.replicas(),
    };
    const onServer: Target = {
      env: { REDIS_URL: server.url },
      masters: [server.url.replace('redis://', '')],
      replicas: [],
    };
    const single: ClusterRound[] = [];
    const clustered: ClusterRound[] = [];
    for (let i = 0; i < options.rounds; i++) {
      single.push(await round(onServer, `s${i}`, options.total));
      progress(
        `round ${i + 1}/${options.rounds} one redis-server: ${describeRound(single.at(-1)!)}`,
      );
      clustered.push(await round(onCluster, `c${i}`, options.total));
      progress(
        `round ${i + 1}/${options.rounds} cluster:          ${describeRound(clustered.at(-1)!)}`,
      );
    }
    const perCommand = (rs: readonly ClusterRound[]) => median(rs.map((r) => sum(r.masterUs)));
    const shares = [0, 1, 2].map(
      (m) => Math.round(median(clustered.map((r) => r.masterUs[m]! / sum(r.masterUs))) * 1000) / 10,
    );
    const ours = perCommand(clustered);
    const baseline = perCommand(single);
    writeResult({
      name: 'cluster',
      ...environment(redisVersion()),
      params: {
        commands: options.total,
        partitions: PARTITIONS,
        inFlight: IN_FLIGHT,
        instances: WORKERS,
        masters: 3,
        replicasPerMaster: 1,
        rounds: options.rounds,
      },
      ours: {
        figure: Math.round(ours * 10) / 10,
        unit: 'masters µs Redis CPU/command',
        rate: Math.round(median(clustered.map((r) => r.rate))),
        masterSharesPct: shares,
        replicasUs: Math.round(median(clustered.map((r) => sum(r.replicaUs))) * 10) / 10,
        rounds: clustered.map((r) => ({
          rate: Math.round(r.rate),
          masterUs: r.masterUs,
          replicaUs: r.replicaUs,
        })),
      },
      baseline: {
        name: `one redis-server, PARTITIONS=${PARTITIONS}`,
        figure: Math.round(baseline * 10) / 10,
        rate: Math.round(median(single.map((r) => r.rate))),
        rounds: single.map((r) => ({ rate: Math.round(r.rate), masterUs: r.masterUs })),
      },
      ratio: Math.round((ours / baseline) * 100) / 100,
      target: 'ratio <= 1.25',
      notes: `largest master share ${Math.max(...shares)} % (target: none above 40 %); replicas reported apart, not in the ratio`,
    });
  } finally {
    await cluster?.stop();
    await server.stop();
  }
}
