/**
 * `npm run cluster -- --instances 3`: several instances on one Redis, on ports 8081.., each with
 * its own SERVER_ID, their logs prefixed by server. Waits for each one's /readyz and says so;
 * Ctrl-C (or SIGTERM) stops them all gracefully, a second Ctrl-C kills them. Every other setting
 * comes from the environment, as for `npm start` (REDIS_URL is required).
 *
 * `npm run cluster -- --redis-cluster 3` first starts a local Redis Cluster (3 masters, a replica
 * each; REDIS_URL is ignored), then the instances on it (REDIS_CLUSTER_NODES, PARTITIONS from the
 * environment or 6); Ctrl-C stops the instances, then the cluster, and deletes its data.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { redactText } from '../src/log.js';
import {
  CLUSTER_USAGE,
  type ClusterOptions,
  clusterMembers,
  parseClusterArgs,
  redisClusterEnv,
} from './lib/cluster-options.js';
import { prefixLines } from './lib/line-prefixer.js';
import { startRedisCluster } from './lib/redis-cluster.js';

/** How often /readyz is asked while an instance starts, and how often the wait is reported. */
const POLL_MS = 250;
const REPORT_EVERY_MS = 5000;

/** One running instance. */
interface Member {
  readonly serverId: string;
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  done: boolean;
}

const color = process.stdout.isTTY;
const say = (line: string) => process.stdout.write(`${paint('[cluster]', 1)} ${line}\n`);

function paint(text: string, index: number): string {
  return color ? `\x1b[${31 + (index % 6)}m${text}\x1b[0m` : text;
}

/** The environment every instance gets: `env`, with a shared SECRET_KEY. */
function clusterEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
    throw new Error(
      'REDIS_URL is not set: instances share work only through Redis (e.g. REDIS_URL=redis://127.0.0.1:6379 npm run cluster, or npm run cluster -- --redis-cluster 3)',
    );
  }
  if (env.SECRET_KEY) return env;
  say('SECRET_KEY is not set: this run uses a random one, shared by its instances');
  return { ...env, SECRET_KEY: randomBytes(32).toString('base64') };
}

/** Where the instances' Redis is, for the log (credentials redacted). */
function redisTarget(env: NodeJS.ProcessEnv): string {
  if (!env.REDIS_CLUSTER_NODES) return redactText(env.REDIS_URL ?? '');
  return `the Redis Cluster ${env.REDIS_CLUSTER_NODES}, PARTITIONS ${env.PARTITIONS ?? 1}`;
}

function launch(
  member: { serverId: string; port: number },
  index: number,
  env: NodeJS.ProcessEnv,
): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...env, PORT: String(member.port), SERVER_ID: member.serverId },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `${paint(`[${member.serverId}]`, index + 2)} `;
  if (child.stdout) prefixLines(child.stdout, process.stdout, prefix);
  if (child.stderr) prefixLines(child.stderr, process.stderr, prefix);
  const started: Member = {
    ...member,
    url: `http://127.0.0.1:${member.port}`,
    child,
    done: false,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  void started.exited.then((code) => {
    started.done = true;
    say(`${member.serverId} exited with code ${code ?? `null (${child.signalCode})`}`);
  });
  return started;
}

/** Resolves true once /readyz answers 200, false if the instance exits first. */
async function becomesReady(member: Member): Promise<boolean> {
  const since = Date.now();
  let reported = since;
  while (!member.done) {
    const reason = await readiness(member.url);
    if (reason === undefined) return true;
    if (Date.now() - reported >= REPORT_EVERY_MS) {
      reported = Date.now();
      say(`waiting for ${member.serverId} (${Math.round((reported - since) / 1000)} s): ${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return false;
}

/** Undefined when ready, else why not. */
async function readiness(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    if (res.ok) return undefined;
    const body = (await res.json()) as { failing?: { name: string; reason?: string }[] };
    return (body.failing ?? []).map((f) => `${f.name}: ${f.reason ?? 'failing'}`).join('; ');
  } catch {
    return 'not listening yet';
  }
}

/** SIGTERM to every live instance; SIGKILL to those still running after the grace time. */
function stopAll(members: readonly Member[], signal: NodeJS.Signals): void {
  const live = members.filter((m) => !m.done);
  if (live.length === 0) return;
  say(`${signal === 'SIGKILL' ? 'killing' : 'stopping'} ${live.map((m) => m.serverId).join(', ')}`);
  for (const m of live) m.child.kill(signal);
  if (signal === 'SIGKILL') return;
  const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000) + 5000;
  setTimeout(() => stopAll(members, 'SIGKILL'), graceMs).unref();
}

async function run(options: ClusterOptions, callerEnv: NodeJS.ProcessEnv): Promise<number> {
  const env = clusterEnv(callerEnv);
  const planned = clusterMembers(options);
  say(
    `starting ${planned.length} instances on ports ${options.basePort}-${options.basePort + planned.length - 1} against ${redisTarget(env)} (KEY_PREFIX ${env.KEY_PREFIX ?? 'sc'})`,
  );
  const members = planned.map((m, i) => launch(m, i, env));
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    stopAll(members, signals > 1 ? 'SIGKILL' : 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let ready = 0;
  const results = await Promise.all(
    members.map(async (m) => {
      const ok = await becomesReady(m);
      if (ok) {
        ready += 1;
        const took = ((Date.now() - started) / 1000).toFixed(1);
        say(
          `${ready}/${members.length} ready: ${m.serverId} ${m.url} (pid ${m.child.pid}, ${took} s)`,
        );
      } else if (signals === 0) {
        say(`${m.serverId} stopped before it was ready (its log is above); stopping the others`);
        stopAll(members, 'SIGTERM');
      }
      return ok;
    }),
  );
  if (results.every(Boolean)) {
    say(
      `${members.length} instances ready: ${members.map((m) => m.url).join(' ')}; Ctrl-C stops them all`,
    );
  }
  const codes = await Promise.all(members.map((m) => m.exited));
  say('all instances stopped');
  return results.every(Boolean) && codes.every((c) => c === 0) ? 0 : 1;
}

/**
 * Starts a local Redis Cluster, then the instances on it; once they all stopped (Ctrl-C), stops the
 * cluster and deletes its data. A Ctrl-C while the cluster starts stops it as soon as it is up.
 */
async function runOnRedisCluster(options: ClusterOptions, masters: number): Promise<number> {
  let interrupted = false;
  const early = () => {
    interrupted = true;
  };
  process.once('SIGINT', early);
  process.once('SIGTERM', early);
  say(`starting a local Redis Cluster: ${masters} masters with a replica each`);
  const cluster = await startRedisCluster({
    masters,
    onUnexpectedExit: (address, how, logTail) =>
      say(`redis-server ${address} ended unasked (${how}); the end of its log:\n${logTail}`),
  });
  process.off('SIGINT', early);
  process.off('SIGTERM', early);
  try {
    say(
      `Redis Cluster ready: masters ${(await cluster.masters()).join(' ')}; replicas ${(await cluster.replicas()).join(' ')}`,
    );
    return interrupted ? 0 : await run(options, redisClusterEnv(process.env, cluster.nodes));
  } finally {
    await cluster.stop();
    say('Redis Cluster stopped, its data deleted');
  }
}

let options: ClusterOptions;
try {
  options = parseClusterArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${CLUSTER_USAGE}\n`);
  process.exit(2);
}
(options.redisCluster
  ? runOnRedisCluster(options, options.redisCluster)
  : run(options, process.env)
).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`npm run cluster: ${error.message}\n`);
    process.exit(1);
  },
);
