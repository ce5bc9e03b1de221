import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A private `redis-server` started for tests or benchmarks; stop it by its pid with `stop()`. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Settles when the process ends: how it ended (`code 1`, `signal SIGKILL`) and whether `stop()` ended it. */
  readonly exited: Promise<{ how: string; stopped: boolean }>;
  stop(): Promise<void>;
}

/** Extra `redis-server` arguments, e.g. `['--appendonly', 'yes']`; a fixed port and data dir. */
export interface RedisServerOptions {
  readonly args?: readonly string[];
  /** Listen here instead of on a free port (a restarted server takes its predecessor's port). */
  readonly port?: number;
  /** Keep data here; it survives `stop()` (the caller removes it), so a restart reads it back. */
  readonly dir?: string;
}

/** True when `redis-server` is on PATH. */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Starts `redis-server` on a free port with nothing persisted (unless `options` say otherwise). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'streamcast-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const url = `redis://127.0.0.1:${port}`;
  let stopped = false;
  const exited = new Promise<{ how: string; stopped: boolean }>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve({ how: signal ? `signal ${signal}` : `code ${code}`, stopped }),
    ),
  );
  const stop = async () => {
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(url, child);
  } catch (error) {
    await stop();
    throw new Error(
      `redis-server on port ${port} did not start: ${(error as Error).message} ${stderr}`,
    );
  }
  return { url, port, pid: child.pid ?? -1, exited, stop };
}

async function waitForPing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error('no PONG within 10 s');
}
