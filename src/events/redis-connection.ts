import { Cluster, Redis } from 'ioredis';
import { type Logger, redactText } from '../log.js';
import { keySlot } from './partitions.js';

/** A connection to one redis-server or to a Redis Cluster (DESIGN.md §8). */
export type RedisClient = Redis | Cluster;

/** Where Redis is: one server's URL, or some of a cluster's nodes. */
export interface RedisTarget {
  /** REDIS_URL */
  readonly url?: string;
  /** REDIS_CLUSTER_NODES: `host:port` of some of the cluster's nodes (the rest are discovered). */
  readonly clusterNodes?: readonly string[];
}

/** How often an unreachable Redis is reported while we keep retrying. */
const REPORT_EVERY_MS = 5000;

/**
 * Connects to `target` and keeps retrying forever (never falls back to anything else), logging one
 * clear line per outage and then every few seconds: what is unreachable, why, and what to check.
 * A cluster is served by ioredis's Cluster client: slots refreshed on `MOVED`/`ASK`, commands
 * retried across a failover, sharded pub/sub on the node owning each channel.
 */
export function connectRedis(target: RedisTarget | string, logger: Logger): RedisClient {
  const { url, clusterNodes } = typeof target === 'string' ? { url: target } : target;
  const where = clusterNodes?.length
    ? `cluster ${clusterNodes.join(',')}`
    : redactText(url ?? '(no REDIS_URL)');
  const redis = clusterNodes?.length ? openCluster(clusterNodes, url) : openServer(url!);
  reportOutages(redis, where, logger);
  return redis;
}

function openServer(url: string): Redis {
  return new Redis(url, {
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    maxRetriesPerRequest: 3,
    enableAutoPipelining: false,
  });
}

/**
 * The Cluster client. A failover takes the cluster a few seconds (node timeout + election), so a
 * command is retried on `CLUSTERDOWN`/`TRYAGAIN`/connection loss for up to ~10 s before it fails.
 * Credentials and TLS come from REDIS_URL when it is set beside the nodes.
 */
function openCluster(nodes: readonly string[], url: string | undefined): Cluster {
  const auth = url ? new URL(url) : undefined;
  return new Cluster(
    nodes.map((node) => {
      const at = node.lastIndexOf(':');
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
    }),
    {
      shardedSubscribers: true,
      enableAutoPipelining: false,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      retryDelayOnFailover: 300,
      retryDelayOnClusterDown: 300,
      retryDelayOnTryAgain: 300,
      maxRedirections: 32,
      slotsRefreshTimeout: 2000,
      redisOptions: {
        maxRetriesPerRequest: 3,
        ...(auth?.username ? { username: decodeURIComponent(auth.username) } : {}),
        ...(auth?.password ? { password: decodeURIComponent(auth.password) } : {}),
        ...(auth?.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}

function reportOutages(redis: RedisClient, where: string, logger: Logger): void {
  let lastReport = 0;
  let down = false;
  redis.on('error', (error: Error & { code?: string }) => {
    const now = Date.now();
    if (down && now - lastReport < REPORT_EVERY_MS) return;
    down = true;
    lastReport = now;
    logger.error(
      `Redis at ${where} is unreachable (${error.code ?? error.message}); retrying every 2 s. Is redis-server running there, and are REDIS_URL / REDIS_CLUSTER_NODES right? streamcast never falls back to memory when Redis is configured.`,
      { component: 'redis', cause: error.message },
    );
  });
  redis.on('ready', () => {
    logger.info(down ? `Redis at ${where} is reachable again` : `connected to Redis at ${where}`, {
      component: 'redis',
    });
    down = false;
  });
}

/** Whether `redis` is a Cluster client. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/** The master nodes of `redis` (itself for one server): for per-node work such as INFO or SCAN. */
export function masters(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/**
 * The node serving `key`'s slot (`redis` itself for one server): for keyless commands about one
 * slot's keys, such as a SCAN whose cursor must stay on one node. On a cluster whose slot map is
 * not known yet, the first master.
 */
export function nodeOf(redis: RedisClient, key: string): Redis {
  if (!isCluster(redis)) return redis;
  const [owner] = redis.slots[keySlot(key)] ?? [];
  const nodes = redis.nodes('master');
  const node = nodes.find((n) => `${n.options.host}:${n.options.port}` === owner) ?? nodes[0];
  if (!node) throw new Error('the Redis Cluster client knows no master yet; retry');
  return node;
}

/**
 * A connection of its own, with `redis`'s settings: for blocking reads and subscriptions, which
 * hold their connection (on a cluster, a Cluster client of its own: DESIGN.md §8's first trap).
 */
export function dedicated(redis: RedisClient, options: { blocking?: boolean } = {}): RedisClient {
  // a blocking reader retries its command across outages for as long as they last
  const retries = options.blocking ? { maxRetriesPerRequest: null } : {};
  if (!isCluster(redis)) return redis.duplicate(retries);
  return redis.duplicate(undefined, {
    redisOptions: { ...redis.options.redisOptions, ...retries },
  });
}

/**
 * Calls `lost` whenever `conn` loses a Redis connection its commands may wait on: the connection
 * closing for one server; for a cluster, a node leaving the client's pool — the Cluster client
 * itself stays up across a failover and emits no `close`, while its command waits for the
 * promoted replica.
 */
export function onConnectionLost(conn: RedisClient, lost: () => void): void {
  if (isCluster(conn)) conn.on('-node', lost);
  else conn.on('close', lost);
}
