import { parseArgs } from 'node:util';

/** What `npm run cluster` starts. */
export interface ClusterOptions {
  /** How many instances (`--instances`, default 3). */
  readonly instances: number;
  /** The first port (`--base-port`, default 8081); the others follow it. */
  readonly basePort: number;
  /** `SERVER_ID`s are `<idPrefix>-<port>` (`--id-prefix`, default `sc`). */
  readonly idPrefix: string;
  /**
   * `--redis-cluster N`: first start a local Redis Cluster of N masters with a replica each, and run
   * the instances on it (REDIS_CLUSTER_NODES; PARTITIONS from the environment, default 6).
   */
  readonly redisCluster?: number;
}

/** The usage line printed on a bad argument. */
export const CLUSTER_USAGE =
  'usage: npm run cluster -- [--instances 3] [--base-port 8081] [--id-prefix sc]   (REDIS_URL must be set)\n' +
  '       npm run cluster -- --redis-cluster 3 [--instances 3 …]   (a local Redis Cluster, 3 masters with a replica each, and the instances on it)';

/** Parses the command line; throws an Error naming the bad argument and the usage. */
export function parseClusterArgs(argv: readonly string[]): ClusterOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      instances: { type: 'string', short: 'n', default: '3' },
      'base-port': { type: 'string', default: '8081' },
      'id-prefix': { type: 'string', default: 'sc' },
      'redis-cluster': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const instances = Number(values.instances);
  const basePort = Number(values['base-port']);
  const idPrefix = values['id-prefix'];
  if (!Number.isInteger(instances) || instances < 1 || instances > 32) {
    throw new Error(`--instances must be a whole number from 1 to 32, not ${values.instances}`);
  }
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + instances - 1 > 65535) {
    throw new Error(`--base-port must leave room for ${instances} ports below 65536`);
  }
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(idPrefix)) {
    throw new Error('--id-prefix must be 1-100 characters of A-Z a-z 0-9 . _ : -');
  }
  const redisCluster = values['redis-cluster'];
  if (redisCluster === undefined) return { instances, basePort, idPrefix };
  const masters = Number(redisCluster);
  if (!Number.isInteger(masters) || masters < 3 || masters > 16) {
    throw new Error(
      `--redis-cluster must be a whole number of masters from 3 to 16, not ${redisCluster}`,
    );
  }
  return { instances, basePort, idPrefix, redisCluster: masters };
}

/** The instances to start: SERVER_ID and port of each. */
export function clusterMembers(options: ClusterOptions): { serverId: string; port: number }[] {
  return Array.from({ length: options.instances }, (_, i) => {
    const port = options.basePort + i;
    return { serverId: `${options.idPrefix}-${port}`, port };
  });
}

/** PARTITIONS of instances on a local Redis Cluster unless the environment says: two per master. */
export const LOCAL_CLUSTER_PARTITIONS = 6;

/**
 * The environment of instances on a local Redis Cluster: the caller's, with the cluster's nodes as
 * REDIS_CLUSTER_NODES and without REDIS_URL (a local cluster has no credentials, and a REDIS_URL
 * beside the nodes would lend them its own), PARTITIONS kept or LOCAL_CLUSTER_PARTITIONS.
 */
export function redisClusterEnv(
  env: NodeJS.ProcessEnv,
  nodes: readonly string[],
): NodeJS.ProcessEnv {
  const { REDIS_URL: _, ...rest } = env;
  return {
    ...rest,
    REDIS_CLUSTER_NODES: nodes.join(','),
    PARTITIONS: env.PARTITIONS ?? String(LOCAL_CLUSTER_PARTITIONS),
  };
}
