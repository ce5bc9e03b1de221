/**
 * What an instance checks on Redis before it takes any work: the Redis itself (eviction policy,
 * version, AOF) and that no live instance holds its `SERVER_ID`. Waits for Redis while it is
 * unreachable (the connection logs why), so an instance started before its Redis comes up later.
 */

import { StreamcastError } from '../errors.js';
import { keySlot, type Partitioning } from '../events/partitions.js';
import { isCluster, masters, type RedisClient } from '../events/redis-connection.js';
import type { Logger } from '../log.js';
import { describeHolder, type InstanceRegistry } from './instance-registry.js';
import { checkPartitionRecord } from './partition-record.js';
import { assessRedis, type Finding, readRedisFacts } from './startup-checks.js';

/** Start-up was refused; `problems` holds one line per problem, each with its fix. */
export class StartupRefusedError extends StreamcastError {
  readonly code = 'STARTUP_REFUSED';
  constructor(readonly problems: readonly string[]) {
    super(`start-up refused:\n  - ${problems.join('\n  - ')}`);
  }
}

/** What `passStartupChecks` works with. */
export interface StartupOptions {
  readonly redis: RedisClient;
  readonly registry: InstanceRegistry;
  readonly serverId: string;
  /** PARTITIONS and the keys: checked against the record in Redis. */
  readonly partitioning: Partitioning;
  readonly logger: Logger;
  /** Aborted on shutdown: stops waiting for Redis (the promise rejects with the signal's reason). */
  readonly signal: AbortSignal;
}

/**
 * Resolves once Redis passed the checks and this instance holds its `SERVER_ID`; logs each
 * warning; throws `StartupRefusedError` listing every refusal. Nothing is registered when Redis
 * itself is refused.
 */
export async function passStartupChecks(options: StartupOptions): Promise<void> {
  const { logger } = options;
  const findings = await whenReady(options, () => checkEveryMaster(options));
  for (const f of findings.filter((x) => x.severity === 'warn')) {
    logger.warn(f.message, { check: f.check });
  }
  const refusals = findings.filter((f) => f.severity === 'refuse').map((f) => f.message);
  if (refusals.length === 0) {
    const { partitioning } = options;
    const wrong = await whenReady(options, () =>
      checkPartitionRecord(options.redis, partitioning.shared, partitioning.count),
    );
    if (wrong) refusals.push(wrong);
  }
  if (refusals.length === 0) {
    const joined = await whenReady(options, () => options.registry.join());
    if (!joined.joined) {
      refusals.push(
        `SERVER_ID ${options.serverId} is held by a live instance: ${describeHolder(joined.holder)}. Fix: give this instance a distinct SERVER_ID (or leave SERVER_ID unset for a random one); if that instance has just crashed, its entry expires within ${Math.ceil(joined.expiresInMs / 1000)} s (SERVER_TTL_MS).`,
      );
    }
  }
  if (refusals.length > 0) throw new StartupRefusedError(refusals);
  logger.info('start-up checks passed', { component: 'startup' });
}

/**
 * The findings on the Redis, or on every master of a cluster (each named), and on a cluster a
 * warning for each master that holds no partition (it would do no streamcast work).
 */
export async function checkEveryMaster(
  options: Pick<StartupOptions, 'redis' | 'partitioning' | 'logger'>,
): Promise<Finding[]> {
  const { redis, logger } = options;
  if (!isCluster(redis)) return checkRedis(redis, logger);
  const findings: Finding[] = [];
  for (const node of masters(redis)) {
    const where = `${node.options.host}:${node.options.port}`;
    for (const f of await checkRedis(node, logger)) {
      findings.push({ ...f, message: `cluster master ${where}: ${f.message}` });
    }
  }
  return [...findings, ...(await idleMasters(redis, options.partitioning))];
}

/** A warning per master whose slots hold none of the partitions' tags. */
async function idleMasters(redis: RedisClient, partitioning: Partitioning): Promise<Finding[]> {
  const ranges = await redis.cluster('SLOTS');
  const slots = partitioning.keys.map((k) => keySlot(k.tag));
  const byMaster = new Map<string, number>();
  for (const [low, high, master] of ranges) {
    if (!master) continue;
    const [host, port] = master;
    const where = `${host}:${port}`;
    const held = slots.filter((s) => s >= low && s <= high).length;
    byMaster.set(where, (byMaster.get(where) ?? 0) + held);
  }
  return [...byMaster]
    .filter(([, held]) => held === 0)
    .map(([where]) => ({
      severity: 'warn' as const,
      check: 'partitions',
      message: `cluster master ${where} holds none of the ${partitioning.count} partitions, so it does no streamcast work. Fix: set PARTITIONS to at least the number of masters (a multiple spreads best) for a new data set.`,
    }));
}

/** The findings on one Redis; one that forbids `INFO` gets a warning instead of a verdict. */
async function checkRedis(redis: RedisClient, logger: Logger): Promise<Finding[]> {
  try {
    return assessRedis(await readRedisFacts(redis));
  } catch (error) {
    if (redis.status !== 'ready') throw error; // the connection dropped: try again when it is back
    logger.warn(
      `cannot read Redis INFO (${String(error)}), so maxmemory-policy and AOF are not checked; allow INFO for this user, and make sure Redis runs with maxmemory-policy noeviction`,
      { check: 'info' },
    );
    return [];
  }
}

/** Runs `step` once Redis is ready, again after each lost connection, until it succeeds. */
async function whenReady<T>(options: StartupOptions, step: () => Promise<T>): Promise<T> {
  for (;;) {
    await redisReady(options.redis, options.signal);
    try {
      return await step();
    } catch (error) {
      if (options.redis.status === 'ready' || options.signal.aborted) throw error;
    }
  }
}

/** Resolves when the connection is ready; rejects when `signal` aborts first. */
function redisReady(redis: RedisClient, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onReady = () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    const onAbort = () => {
      redis.off('ready', onReady);
      reject(signal.reason);
    };
    redis.once('ready', onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
