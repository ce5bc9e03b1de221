/**
 * Debian's nginx for tests: the deploy/nginx template rendered for local instances and run as a
 * non-daemon child process with every path private (prefix, pid, logs, temp files) on a free
 * port. Stopped by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSite, standaloneNginxConf } from '../../scripts/lib/nginx-config.js';
import { freePort } from '../../scripts/lib/redis-server.js';

/** A running nginx. */
export interface Nginx {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** The access log so far. */
  accessLog(): string;
  /** Everything nginx wrote to its error log and stderr. */
  errors(): string;
  stop(): Promise<void>;
}

/** The nginx binary, or undefined: on PATH, else where Debian installs it (root's PATH has sbin). */
export function nginxBinary(): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}

/** Starts nginx in front of `upstreams` (`host:port`) and waits until it accepts connections. */
export async function startNginx(upstreams: readonly string[]): Promise<Nginx> {
  const binary = nginxBinary();
  if (!binary) throw new Error('nginx is not installed (apt-get install nginx)');
  const dir = mkdtempSync(join(tmpdir(), 'streamcast-nginx-'));
  chmodSync(dir, 0o755); // nginx workers run as nobody when started by root
  for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(join(dir, 'temp', temp), { recursive: true, mode: 0o777 });
  }
  const port = await freePort();
  const accessLog = join(dir, 'access.log');
  writeFileSync(
    join(dir, 'site.conf'),
    renderSite({ listen: `127.0.0.1:${port}`, upstreams, accessLog }),
  );
  writeFileSync(join(dir, 'nginx.conf'), standaloneNginxConf(dir, join(dir, 'site.conf')));
  const child: ChildProcess = spawn(
    binary,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };
  const nginx: Nginx = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    accessLog: () => read('access.log'),
    errors: () => `${stderr}${read('error.log')}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitForPort(nginx, child);
  return nginx;
}

async function waitForPort(nginx: Nginx, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${nginx.errors()}`);
    try {
      await fetch(`${nginx.url}/nginx-probe`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  await nginx.stop();
  throw new Error(`nginx did not listen within 10 s: ${nginx.errors()}`);
}

const NGINX_MISSING = 'nginx is not installed (apt-get install nginx; .ci/run installs it)';

/** In a mocha hook: fails under CI, skips locally (saying why) when nginx is missing. */
export function requireNginx(context: Mocha.Context): void {
  if (nginxBinary()) return;
  if (process.env.CI === 'true') throw new Error(`the nginx test cannot run: ${NGINX_MISSING}`);
  process.stdout.write(`    skipped: ${NGINX_MISSING}\n`);
  context.skip();
}

/** Runs `test` against nginx (the rendered template) in front of a stand-in upstream `handler`. */
export async function nginxInFrontOf(
  handler: (res: http.ServerResponse) => Promise<void>,
  test: (url: string) => Promise<void>,
): Promise<void> {
  const stub = http.createServer((_req, res) => void handler(res));
  stub.listen(0, '127.0.0.1');
  await once(stub, 'listening');
  const proxy = await startNginx([`127.0.0.1:${(stub.address() as AddressInfo).port}`]);
  try {
    await test(proxy.url);
  } finally {
    await proxy.stop();
    stub.closeAllConnections();
    stub.close();
  }
}
