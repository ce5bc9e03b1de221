import { Cluster, Redis } from 'ioredis';
import {
  type RedisCluster,
  type RedisClusterOptions,
  redisClusterUnavailable,
  startRedisCluster,
} from '../../scripts/lib/redis-cluster.js';

/** How long a suite's cluster may take to start (nodes, `--cluster create`, convergence). */
const START_TIMEOUT_MS = 60_000;

/**
 * Declares a suite with a private local Redis Cluster (3 masters with a replica each unless
 * `options` say otherwise), started before its tests and stopped after them; `cluster()` gives it
 * to the tests. Without `redis-server` 7 and `redis-cli` it fails under `CI=true` and locally skips
 * with the printed reason, like `describeWithRedis`.
 */
export function describeWithRedisCluster(
  title: string,
  body: (this: Mocha.Suite, cluster: () => RedisCluster) => void,
  options: RedisClusterOptions = {},
): void {
  describe(title, function () {
    let started: RedisCluster | undefined;
    before(async function () {
      this.timeout(START_TIMEOUT_MS);
      skipWithoutRedisCluster(this, title);
      started = await startRedisCluster(options);
    });
    after(async () => {
      await started?.stop();
    });
    body.call(this, () => {
      if (!started) throw new Error(`the Redis Cluster of "${title}" is not started`);
      return started;
    });
  });
}

/**
 * Skips the suite, printing why, when a Redis Cluster cannot be started here (no `redis-server` 7
 * or no `redis-cli`); under `CI=true` fails it instead.
 */
export function skipWithoutRedisCluster(context: Mocha.Context, title: string): void {
  const missing = redisClusterUnavailable();
  if (!missing) return;
  if (process.env.CI === 'true') throw new Error(`Redis Cluster tests cannot run: ${missing}`);
  process.stdout.write(`    skipped "${title}": ${missing}\n`);
  context.skip();
}

/**
 * An ioredis `Cluster` client on a cluster's nodes that rides out a failover: a command to a dead
 * master, or answered `CLUSTERDOWN`, is retried after a slots refresh every 500 ms, at most
 * `maxRedirections` (16) times, so for about 8 s — a failover with the fixture's 2 s node timeout
 * takes about 4 s.
 */
export function clusterClient(cluster: RedisCluster): Cluster {
  const client = new Cluster(
    cluster.nodes.map((node) => {
      const [host, port] = node.split(':');
      return { host, port: Number(port) };
    }),
    {
      retryDelayOnFailover: 500,
      retryDelayOnClusterDown: 500,
      slotsRefreshTimeout: 1000,
      redisOptions: { maxRetriesPerRequest: 50, connectTimeout: 1000 },
    },
  );
  client.on('error', () => {}); // a node being killed; commands see their own errors
  return client;
}

const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/** The replica of `master` (the first, as the cluster sees it now). */
export async function replicaOf(cluster: RedisCluster, master: string): Promise<string> {
  const view = await cluster.view();
  const masterId = view.find((v) => v.address === master)?.id;
  const replica = view.find((v) => v.role === 'replica' && v.masterId === masterId);
  if (!replica) throw new Error(`${master} has no replica`);
  return replica.address;
}

/**
 * Cuts `master` off from its replica: the replica is given a password the master does not know,
 * and its link is dropped, so it cannot resynchronise until `heal`. The master goes on taking
 * writes (min-replicas-to-write is 0) that reach no replica.
 */
export async function cutReplication(master: string, replica: string) {
  const toReplica = new Redis(port(replica));
  const toMaster = new Redis(port(master));
  await toReplica.config('SET', 'masterauth', 'not-the-masters-password');
  await toMaster.call('CLIENT', 'KILL', 'TYPE', 'replica');
  toMaster.disconnect();
  return {
    heal: async () => {
      await toReplica.config('SET', 'masterauth', '');
      toReplica.disconnect();
    },
  };
}
