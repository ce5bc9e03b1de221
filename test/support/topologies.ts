/**
 * The Redis topologies streamcast supports, for suites that must pass on each (issue 14): one
 * redis-server with one partition (today's layout), and a local Redis Cluster of 3 masters with a
 * replica each holding `CLUSTER_PARTITIONS` partitions. The cluster is started once per test run,
 * on first use, and shared by every suite under unique key prefixes (suites that kill nodes start
 * their own with `describeWithRedisCluster`); the global fixture stops it.
 */
import { Cluster } from 'ioredis';
import { type RedisCluster, startRedisCluster } from '../../scripts/lib/redis-cluster.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { type EventStoreTarget, eventStoreTarget } from './eventstore.js';
import { redisMissingReason, testClient, testRedisUrl } from './redis.js';
import { skipWithoutRedisCluster } from './redis-cluster.js';

/** Partitions of the cluster topology: two per master, so every master holds some. */
export const CLUSTER_PARTITIONS = 6;

/** How long the shared cluster may take to start. */
const START_TIMEOUT_MS = 60_000;

/** One topology, as a suite sees it. */
export interface Topology {
  /** `redis-server`, `cluster`, or `eventstoredb` (events there, the rest on one redis-server). */
  readonly name: 'redis-server' | 'cluster' | 'eventstoredb';
  /** PARTITIONS the data has on it. */
  readonly partitions: number;
  /** A new client of the test's own (disconnect it after). */
  client(): RedisClient;
  /** Environment for an instance: REDIS_URL or REDIS_CLUSTER_NODES, and PARTITIONS. */
  env(): Record<string, string>;
  /** The cluster itself (nodes, masters), on the cluster topology. */
  readonly cluster?: RedisCluster;
  /** The EventStoreDB the instances use, on the eventstoredb topology. */
  readonly eventStore?: EventStoreTarget;
}

/** Which topologies besides the two Redis ones a suite also runs on. */
export interface TopologyOptions {
  /**
   * STORE=eventstoredb (issue 18): the events in EventStoreDB — the test double, started for the
   * suite, or TEST_EVENTSTORE_URL — and everything else on the test redis-server.
   */
  readonly eventStoreDb?: boolean;
}

let shared: Promise<RedisCluster> | undefined;

/** The run's shared cluster, started on first use. */
export function sharedRedisCluster(): Promise<RedisCluster> {
  shared ??= startRedisCluster();
  return shared;
}

/** Stops the shared cluster if it was started (the global fixture's teardown). */
export async function stopSharedRedisCluster(): Promise<void> {
  if (shared) await (await shared.catch(() => undefined))?.stop();
  shared = undefined;
}

/** A Cluster client on `cluster` with the instances' settings, riding out a failover. */
export function clusterTestClient(cluster: RedisCluster): Cluster {
  const client = new Cluster(
    cluster.nodes.map((node) => {
      const at = node.lastIndexOf(':');
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
    }),
    {
      shardedSubscribers: true,
      retryDelayOnFailover: 300,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 300,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      redisOptions: { maxRetriesPerRequest: 3 },
    },
  );
  client.on('error', () => {}); // a node being killed: commands see their own errors
  return client;
}

const singleServer: Topology = {
  name: 'redis-server',
  partitions: 1,
  client: () => testClient(),
  env: () => ({ REDIS_URL: testRedisUrl() ?? '', PARTITIONS: '1' }),
};

function onCluster(cluster: RedisCluster): Topology {
  return {
    name: 'cluster',
    partitions: CLUSTER_PARTITIONS,
    cluster,
    client: () => clusterTestClient(cluster),
    env: () => ({
      REDIS_CLUSTER_NODES: cluster.nodes.join(','),
      PARTITIONS: `${CLUSTER_PARTITIONS}`,
    }),
  };
}

/**
 * Declares `title` once per topology: `<title> [redis-server]` and `<title> [cluster 3×2, 6
 * partitions]`; `topology()` gives the suite's. Each skips like `describeWithRedis` /
 * `describeWithRedisCluster` (printing why) when its Redis cannot run here, and fails under CI.
 */
export function describeOnTopologies(
  title: string,
  body: (this: Mocha.Suite, topology: () => Topology) => void,
  options: TopologyOptions = {},
): void {
  describe(`${title} [redis-server]`, function () {
    before(function () {
      if (testRedisUrl()) return;
      process.stdout.write(`    skipped "${title} [redis-server]": ${redisMissingReason()}\n`);
      this.skip();
    });
    body.call(this, () => singleServer);
  });
  if (options.eventStoreDb) describeOnEventStoreDb(title, body);
  const clusterTitle = `${title} [cluster 3×2, ${CLUSTER_PARTITIONS} partitions]`;
  describe(clusterTitle, function () {
    let topology: Topology | undefined;
    before(async function () {
      this.timeout(START_TIMEOUT_MS);
      skipWithoutRedisCluster(this, clusterTitle);
      topology = onCluster(await sharedRedisCluster());
    });
    body.call(this, () => {
      if (!topology)
        throw new Error(`the shared Redis Cluster of "${clusterTitle}" is not started`);
      return topology;
    });
  });
}

/**
 * `<title> [eventstoredb]`: the suite with STORE=eventstoredb. Each test gets an EventStoreDB of
 * its own (a fresh double, or on TEST_EVENTSTORE_URL streams of a fresh prefix): instances of one
 * KEY_PREFIX must not meet another test's events in `$all`, or their notifier would notify them.
 */
function describeOnEventStoreDb(
  title: string,
  body: (this: Mocha.Suite, topology: () => Topology) => void,
): void {
  describe(`${title} [eventstoredb]`, function () {
    let eventStore: EventStoreTarget | undefined;
    const started = () => {
      if (!eventStore) throw new Error(`no EventStoreDB is started for this test of "${title}"`);
      return eventStore;
    };
    const topology: Topology = {
      name: 'eventstoredb',
      partitions: 1,
      get eventStore() {
        return eventStore;
      },
      client: () => testClient(),
      env: () => ({
        REDIS_URL: testRedisUrl() ?? '',
        PARTITIONS: '1',
        STORE: 'eventstoredb',
        EVENTSTORE_CONNECTION_STRING: started().connectionString,
        EVENTSTORE_STREAM_PREFIX: started().streamPrefix,
      }),
    };
    before(function () {
      if (testRedisUrl()) return;
      process.stdout.write(`    skipped "${title} [eventstoredb]": ${redisMissingReason()}\n`);
      this.skip();
    });
    beforeEach(async () => {
      eventStore = await eventStoreTarget();
    });
    body.call(this, () => topology);
    // after the suite's own afterEach (registered after it): its instances are stopped by then
    afterEach(async () => {
      await eventStore?.stop();
      eventStore = undefined;
    });
  });
}
