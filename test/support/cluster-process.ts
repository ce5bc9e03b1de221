/**
 * `npm run cluster` as tests run it: `scripts/cluster.ts` as a child process on a run of free
 * ports, its output kept, its instances read from its progress lines. Stopped as Ctrl-C does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** One instance the cluster reported ready. */
export interface ClusterMember {
  readonly serverId: string;
  readonly url: string;
  readonly pid: number;
}

/** A running `npm run cluster`. */
export interface ClusterProcess {
  readonly pid: number;
  readonly members: readonly ClusterMember[];
  output(): string;
  /** Resolves with the first output line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
  /** Sends `signal` (SIGINT: what Ctrl-C sends) and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const READY = /\[cluster\] \d+\/\d+ ready: (\S+) (http:\/\/\S+) \(pid (\d+),/;

/** Starts `count` instances with `env` (REDIS_URL, KEY_PREFIX, …) and waits until all are ready. */
export async function startCluster(
  count: number,
  env: Record<string, string | undefined>,
): Promise<ClusterProcess> {
  const basePort = await freePortRun(count);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/cluster.ts',
      '--instances',
      String(count),
      '--base-port',
      String(basePort),
    ],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (c) => {
    output += String(c);
  });
  child.stderr?.on('data', (c) => {
    output += String(c);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const waitForLine = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = output.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`no line matching ${pattern}; cluster output:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const cluster: ClusterProcess = {
    pid: child.pid ?? -1,
    members: [],
    output: () => output,
    waitForLine,
    exited,
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  try {
    await waitForLine(new RegExp(`\\[cluster\\] ${count} instances ready`), 60_000);
  } catch (error) {
    await cluster.stop('SIGKILL');
    throw error;
  }
  const members = output
    .split('\n')
    .map((l) => READY.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ serverId: m[1]!, url: m[2]!, pid: Number(m[3]) }))
    .sort((a, b) => a.url.localeCompare(b.url));
  return { ...cluster, members };
}

/**
 * The ports a run may choose from: below the kernel's ephemeral range, which outgoing connections
 * take from (a Redis Cluster forming opens dozens), so a port found free stays free until the
 * instance listens on it.
 */
function listenRange(): readonly [number, number] {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && low > 12_000) return [10_000, low];
  } catch {
    // not Linux: any range
  }
  return [20_000, 60_000];
}

/** The first of `count` consecutive ports on which nothing listens now. */
export async function freePortRun(count: number): Promise<number> {
  const [low, high] = listenRange();
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The JSON log lines one member printed, parsed, read from the cluster's prefixed output. */
export function memberLog(
  cluster: ClusterProcess,
  member: ClusterMember,
): { readonly at: number; readonly line: string; readonly entry: Record<string, unknown> }[] {
  const prefix = `[${member.serverId}] `;
  return cluster
    .output()
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}{`))
    .map((l) => {
      const entry = JSON.parse(l.slice(prefix.length)) as Record<string, unknown>;
      return { at: Date.parse(String(entry.timestamp)), line: l, entry };
    });
}
