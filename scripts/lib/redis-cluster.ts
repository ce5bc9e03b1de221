/**
 * A private local Redis Cluster for tests and scripts: `redis-server --cluster-enabled` nodes on
 * free ports, each in its own data dir under one temporary root, joined by `redis-cli --cluster
 * create`. Nodes can be SIGKILLed and restarted on their port and data; `stop()` kills every pid
 * it started and removes the root. Never touches a Redis it did not start.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import {
  freePort,
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from './redis-server.js';

const HOST = '127.0.0.1';
const SLOTS = 16384;
/** How long the cluster may take to form, or to settle after a failover or restart. */
const CONVERGE_MS = 30_000;
const POLL_MS = 100;

export interface RedisClusterOptions {
  /** Masters (at least 3, as `redis-cli --cluster create` demands); default 3. */
  readonly masters?: number;
  /** Replicas of each master; default 1. */
  readonly replicasPerMaster?: number;
  /** `appendfsync` of every node (AOF is always on); Redis's default `everysec` if unset. */
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  /** `cluster-node-timeout`: how long a silent node takes to be failed over; default 2000 ms. */
  readonly nodeTimeoutMs?: number;
  /**
   * Told when a node's redis-server ends without `kill`, `restart` or `stop` asking it to, with
   * the end of its log (each node logs to `redis.log` in its data dir).
   */
  readonly onUnexpectedExit?: (address: string, how: string, logTail: string) => void;
}

/** One line of `CLUSTER NODES`, as the node asked saw it. */
export interface ClusterNodeView {
  readonly id: string;
  /** `host:port` */
  readonly address: string;
  readonly role: 'master' | 'replica';
  /** The master's id, for a replica. */
  readonly masterId: string | undefined;
  /** Flagged `fail` or `fail?` by the node asked. */
  readonly failing: boolean;
  /** Slot ranges served, inclusive (masters). */
  readonly slots: readonly (readonly [number, number])[];
}

export interface Failover {
  /** The replica now serving the killed master's slots. */
  readonly promoted: string;
  /** From the SIGKILL until every live node reported `cluster_state:ok` with it promoted. */
  readonly ms: number;
}

export interface RedisCluster {
  /** Every node as `host:port` (for `REDIS_CLUSTER_NODES`), in start order. */
  readonly nodes: readonly string[];
  /** The cluster as a live node sees it now (`CLUSTER NODES`). */
  view(): Promise<ClusterNodeView[]>;
  /** Masters serving slots and not failing, read live. */
  masters(): Promise<string[]>;
  /** Replicas not failing, read live. */
  replicas(): Promise<string[]>;
  /** The master serving a slot, or a key's slot (hash tags count), read live. */
  masterOf(slotOrKey: number | string): Promise<string>;
  /** SIGKILLs a node's redis-server (its data dir stays for `restart`). */
  kill(node: string): Promise<void>;
  /** Starts a killed node again on its port and data, and waits until the cluster has it back. */
  restart(node: string): Promise<ClusterNodeView>;
  /** Waits until a replica of a killed master serves its slots and the cluster is ok again. */
  waitForFailover(killedNode: string): Promise<Failover>;
  /** Kills every redis-server it started and removes their data. */
  stop(): Promise<void>;
}

interface Node {
  readonly address: string;
  readonly port: number;
  readonly busPort: number;
  readonly dir: string;
  server: RedisServer | undefined;
  /** Set by `kill`: when, and the ids of its replicas then. */
  killed?: { at: number; replicaIds: readonly string[] };
}

/** What a started cluster is made of. */
interface Cluster {
  readonly nodes: Node[];
  /** How many masters serve slots when the cluster is whole. */
  readonly masters: number;
  /** `redis-server` arguments every node gets (besides its ports and files). */
  readonly args: readonly string[];
  /** The temporary dir holding every node's data dir. */
  readonly root: string;
  readonly onUnexpectedExit?: RedisClusterOptions['onUnexpectedExit'];
}

/** Why a cluster cannot be started here (missing or too old tools), or undefined. */
export function redisClusterUnavailable(): string | undefined {
  if (!redisServerAvailable()) {
    return 'redis-server is not on PATH (install it: apt-get install redis-server)';
  }
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (cli.status !== 0) {
    return 'redis-cli is not on PATH: it joins the nodes (install it: apt-get install redis-tools)';
  }
  const version = /v=(\d+)\./.exec(
    spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout,
  );
  if (!version || Number(version[1]) < 7) {
    return `redis-server 7 or newer is needed for --cluster-port (found ${version?.[0] ?? 'an unknown version'}): install Redis 7`;
  }
  return undefined;
}

/** Starts and joins a local Redis Cluster and waits until every slot is served. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  if (!Number.isInteger(masters) || masters < 3) {
    throw new Error(`a Redis Cluster needs at least 3 masters, not ${masters}`);
  }
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`replicasPerMaster must be a whole number ≥ 0, not ${replicas}`);
  }
  const missing = redisClusterUnavailable();
  if (missing) throw new Error(`cannot start a Redis Cluster: ${missing}`);
  const cluster: Cluster = {
    nodes: [],
    masters,
    args: nodeArgs(options),
    root: mkdtempSync(join(tmpdir(), 'streamcast-cluster-')),
    onUnexpectedExit: options.onUnexpectedExit,
  };
  const handle = clusterHandle(cluster);
  try {
    while (cluster.nodes.length < masters * (1 + replicas))
      cluster.nodes.push(await addNode(cluster));
    createCluster(cluster.nodes, replicas);
    await waitUntilSettled(cluster, 'formed');
    return handle;
  } catch (error) {
    await handle.stop();
    throw error;
  }
}

function nodeArgs(options: RedisClusterOptions): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-node-timeout',
    String(options.nodeTimeoutMs ?? 2000),
    '--appendonly',
    'yes',
    // a replica's full sync starts at once instead of after Redis's 5 s wait for more replicas
    '--repl-diskless-sync-delay',
    '0',
    ...(options.appendfsync ? ['--appendfsync', options.appendfsync] : []),
  ];
}

function newNode(root: string, port: number, busPort: number): Node {
  const dir = join(root, String(port));
  mkdirSync(dir);
  return { address: `${HOST}:${port}`, port, busPort, dir, server: undefined };
}

async function startNode(node: Node, cluster: Cluster): Promise<RedisServer> {
  const logFile = join(node.dir, 'redis.log');
  const server = await startRedisServer({
    port: node.port,
    dir: node.dir,
    args: [
      ...cluster.args,
      '--cluster-port',
      String(node.busPort),
      '--cluster-config-file',
      join(node.dir, 'nodes.conf'),
      '--logfile',
      logFile,
    ],
  });
  void server.exited.then(({ how, stopped }) => {
    if (stopped || !cluster.onUnexpectedExit) return;
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch (error) {
      log = `(no log: ${(error as Error).message})`;
    }
    cluster.onUnexpectedExit(node.address, how, log);
  });
  return server;
}

/**
 * Starts a node on a free client port and a free bus port, neither used by the cluster's other
 * nodes; tries other ports twice when one was taken between finding it free and binding it.
 */
async function addNode(cluster: Cluster): Promise<Node> {
  const used = new Set(cluster.nodes.flatMap((n) => [n.port, n.busPort]));
  const unused = async () => {
    for (;;) {
      const port = await freePort();
      if (!used.has(port)) {
        used.add(port);
        return port;
      }
    }
  };
  for (let attempt = 1; ; attempt++) {
    const node = newNode(cluster.root, await unused(), await unused());
    try {
      node.server = await startNode(node, cluster);
      return node;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

function createCluster(nodes: readonly Node[], replicas: number): void {
  const result = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => n.address),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: CONVERGE_MS },
  );
  if (result.status !== 0) {
    throw new Error(
      `redis-cli --cluster create failed (exit ${result.status ?? result.signal}); its output: ${result.stdout}${result.stderr}`,
    );
  }
}

/** One command on one node, over a connection of its own that gives up at once. */
async function ask(address: string, ...args: string[]): Promise<unknown> {
  const [host, port] = address.split(':');
  const client = new Redis({
    host,
    port: Number(port),
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(args[0] as string, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}

/** `field:value` lines (CLUSTER INFO, INFO) as a record. */
async function askFields(address: string, ...args: string[]): Promise<Record<string, string>> {
  const text = String(await ask(address, ...args));
  return Object.fromEntries(
    text
      .split(/\r?\n/)
      .filter((line) => line.includes(':'))
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
  );
}

/** Parses `CLUSTER NODES`; `myself` is the node asked. */
export function parseClusterNodes(text: string): (ClusterNodeView & { myself: boolean })[] {
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => {
      const [id = '', addr = '', flagText = '', master = '-', , , , , ...slotFields] =
        line.split(' ');
      const flags = flagText.split(',');
      return {
        id,
        address: addr.split('@')[0] as string,
        role: flags.includes('master') ? ('master' as const) : ('replica' as const),
        masterId: master === '-' ? undefined : master,
        failing: flags.includes('fail') || flags.includes('fail?'),
        myself: flags.includes('myself'),
        slots: slotFields
          .filter((f) => !f.startsWith('['))
          .map((f) => {
            const [from, to = from] = f.split('-').map(Number) as [number, number?];
            return [from, to] as const;
          }),
      };
    });
}

async function viewFrom(address: string): Promise<(ClusterNodeView & { myself: boolean })[]> {
  return parseClusterNodes(String(await ask(address, 'CLUSTER', 'NODES')));
}

const liveNodes = (nodes: readonly Node[]) => nodes.filter((n) => n.server !== undefined);

/** A master serving slots, not failing. */
const servesSlots = (v: ClusterNodeView) => v.role === 'master' && !v.failing && v.slots.length > 0;

/**
 * Undefined when every live node says `cluster_state:ok` with every slot served, knows every
 * node, sees the planned number of masters serving slots, every other live node as a replica and
 * none failing, and each live replica's link to its master is up; else what was wrong, by node.
 */
async function unsettled(cluster: Cluster): Promise<string | undefined> {
  const problems = await Promise.all(
    liveNodes(cluster.nodes).map(async (node) => {
      try {
        const wrong = await nodeProblems(cluster, node);
        return wrong.length > 0 ? `${node.address}: ${wrong.join(', ')}` : undefined;
      } catch (error) {
        return `${node.address}: ${(error as Error).message}`;
      }
    }),
  );
  const found = problems.filter(Boolean);
  return found.length > 0 ? found.join('; ') : undefined;
}

async function nodeProblems(cluster: Cluster, node: Node): Promise<string[]> {
  const { nodes, masters } = cluster;
  const live = liveNodes(nodes);
  const info = await askFields(node.address, 'CLUSTER', 'INFO');
  const view = await viewFrom(node.address);
  const serving = view.filter(servesSlots);
  const replicas = view.filter((v) => v.role === 'replica' && !v.failing);
  return [
    info.cluster_state !== 'ok' && `cluster_state:${info.cluster_state}`,
    info.cluster_slots_ok !== String(SLOTS) && `cluster_slots_ok:${info.cluster_slots_ok}`,
    info.cluster_known_nodes !== String(nodes.length) &&
      `cluster_known_nodes:${info.cluster_known_nodes}`,
    serving.length !== masters && `sees ${serving.length} masters serving slots`,
    replicas.length !== live.length - masters && `sees ${replicas.length} live replicas`,
    ...live
      .filter((n) => !view.some((v) => v.address === n.address && !v.failing))
      .map((n) => `sees ${n.address} failing or not at all`),
    view.find((v) => v.myself)?.role === 'replica' && (await replicaLink(node.address)),
  ].filter((problem): problem is string => typeof problem === 'string');
}

/** False when a replica's link to its master is up, else what INFO replication says. */
async function replicaLink(address: string): Promise<string | false> {
  const info = await askFields(address, 'INFO', 'replication');
  return info.master_link_status === 'up' ? false : `master_link_status:${info.master_link_status}`;
}

/** Polls `check` until it returns a value, or throws `failure(last problem seen)` at the deadline. */
async function waitFor<T>(
  check: () => Promise<{ value: T } | { problem: string }>,
  failure: (problem: string) => string,
): Promise<T> {
  const deadline = Date.now() + CONVERGE_MS;
  for (;;) {
    const result = await check();
    if ('value' in result) return result.value;
    if (Date.now() >= deadline) throw new Error(failure(result.problem));
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function waitUntilSettled(cluster: Cluster, what: string): Promise<void> {
  await waitFor(
    async () => {
      const problem = await unsettled(cluster);
      return problem === undefined ? { value: undefined } : { problem };
    },
    (problem) =>
      `the Redis Cluster on ${liveNodes(cluster.nodes)
        .map((n) => n.address)
        .join(
          ',',
        )} was not ${what} within ${CONVERGE_MS / 1000} s (is the machine overloaded, or a port taken?); it said: ${problem}`,
  );
}

function clusterHandle(cluster: Cluster): RedisCluster {
  const forgetOnExit = killOnExit(cluster.nodes);
  const view = () => liveView(cluster);
  return {
    get nodes() {
      return cluster.nodes.map((n) => n.address);
    },
    view,
    masters: async () => (await view()).filter(servesSlots).map((v) => v.address),
    replicas: async () =>
      (await view()).filter((v) => v.role === 'replica' && !v.failing).map((v) => v.address),
    masterOf: (slotOrKey) => masterOf(cluster, slotOrKey),
    kill: (address) => killNode(cluster, address),
    restart: (address) => restartNode(cluster, address),
    waitForFailover: (address) => waitForFailover(cluster, nodeAt(cluster, address, false)),
    stop: async () => {
      forgetOnExit();
      for (const node of cluster.nodes) {
        await node.server?.stop();
        node.server = undefined;
      }
      rmSync(cluster.root, { recursive: true, force: true });
    },
  };
}

/** SIGKILLs the nodes' redis-servers when this process exits; returns how to stop doing so. */
function killOnExit(nodes: readonly Node[]): () => void {
  const killAll = () => {
    for (const node of liveNodes(nodes)) {
      try {
        process.kill(node.server?.pid ?? -1, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  process.on('exit', killAll); // a run that ends without stop() leaves no redis-server behind
  return () => process.off('exit', killAll);
}

/** One command answered by the first live node that answers. */
async function askAnyLive(cluster: Cluster, ...args: string[]): Promise<unknown> {
  for (const node of liveNodes(cluster.nodes)) {
    try {
      return await ask(node.address, ...args);
    } catch {
      // a node that is starting or dying: ask the next
    }
  }
  throw new Error(`no node of the cluster answers ${args[0]}: were they all killed or stopped?`);
}

async function liveView(cluster: Cluster): Promise<ClusterNodeView[]> {
  return parseClusterNodes(String(await askAnyLive(cluster, 'CLUSTER', 'NODES')));
}

function nodeAt(cluster: Cluster, address: string, running: boolean): Node {
  const node = cluster.nodes.find((n) => n.address === address);
  if (!node) {
    const known = cluster.nodes.map((n) => n.address).join(',');
    throw new Error(`${address} is not a node of this cluster (${known})`);
  }
  if ((node.server !== undefined) !== running) {
    throw new Error(
      `${address} is ${running ? 'not running: restart it first' : 'running: kill it first'}`,
    );
  }
  return node;
}

async function masterOf(cluster: Cluster, slotOrKey: number | string): Promise<string> {
  const slot =
    typeof slotOrKey === 'number'
      ? slotOrKey
      : Number(await askAnyLive(cluster, 'CLUSTER', 'KEYSLOT', slotOrKey));
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) {
    throw new Error(`a slot is a whole number from 0 to ${SLOTS - 1}, not ${slot}`);
  }
  const master = (await liveView(cluster)).find(
    (v) => servesSlots(v) && v.slots.some(([from, to]) => from <= slot && slot <= to),
  );
  if (!master) throw new Error(`no live master serves slot ${slot} now (a failover under way?)`);
  return master.address;
}

async function killNode(cluster: Cluster, address: string): Promise<void> {
  const node = nodeAt(cluster, address, true);
  const id = String(await ask(address, 'CLUSTER', 'MYID'));
  const replicaIds = (await liveView(cluster)).filter((v) => v.masterId === id).map((v) => v.id);
  await node.server?.stop();
  node.server = undefined;
  node.killed = { at: Date.now(), replicaIds };
}

async function restartNode(cluster: Cluster, address: string): Promise<ClusterNodeView> {
  const node = nodeAt(cluster, address, false);
  node.server = await startNode(node, cluster);
  await waitUntilSettled(cluster, `whole again after ${address} restarted`);
  const seen = (await liveView(cluster)).find((v) => v.address === address);
  if (!seen) throw new Error(`${address} restarted but the cluster does not list it`);
  return seen;
}

async function waitForFailover(cluster: Cluster, killed: Node): Promise<Failover> {
  const { at, replicaIds } = killed.killed ?? { at: Date.now(), replicaIds: [] };
  if (replicaIds.length === 0) {
    throw new Error(
      `${killed.address} had no replica when killed: only a master with one fails over`,
    );
  }
  const promoted = await waitFor<string>(
    async () => {
      const heir = (await liveView(cluster)).find(
        (v) => replicaIds.includes(v.id) && servesSlots(v),
      );
      if (!heir) return { problem: `none of ${killed.address}'s replicas serves slots yet` };
      const problem = await unsettled(cluster);
      return problem === undefined ? { value: heir.address } : { problem };
    },
    (problem) =>
      `no replica of ${killed.address} took over its slots within ${CONVERGE_MS / 1000} s; last seen: ${problem}`,
  );
  return { promoted, ms: Date.now() - at };
}
