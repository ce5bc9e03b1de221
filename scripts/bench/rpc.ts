import { spawn } from 'node:child_process';
/**
 * `rpc` (BENCH.md): trainer.move over HTTP JSON-RPC with autocannon, 64 connections, one instance,
 * against a bare express route that parses the body and does one XADD. Recorded, not targeted:
 * ours waits until the command is handled, the baseline does not.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { startApp } from '../lib/app-process.js';
import { freePort, startRedisServer } from '../lib/redis-server.js';
import {
  alternate,
  environment,
  progress,
  type Round,
  redisVersion,
  summarise,
  writeResult,
} from './lib.js';

const CONNECTIONS = 64;
const TRAINERS = 1000;

function bodyOf(i: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: i,
    method: 'trainer.move',
    params: {
      action: 'start',
      directionX: Math.cos(i),
      directionY: Math.sin(i) || 1,
      trainerId: `t${i % TRAINERS}`,
    },
  });
}

async function load(url: string, seconds: number): Promise<Round> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'bench', 'x-user-roles': 'admin' },
    requests: [{ setupRequest: (req) => ({ ...req, body: bodyOf(i++) }) }],
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0)
    throw new Error(
      `${bad} requests failed (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts})`,
    );
  return { rate: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

async function bareRelay(url: string): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./bare-relay.ts', import.meta.url).pathname, url, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`bare relay exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/rpc`,
    close: async () => {
      child.kill('SIGKILL');
    },
  };
}

/** Runs the benchmark and writes bench/results/rpc.json. */
export async function benchRpc(options: { rounds: number; seconds: number }): Promise<void> {
  const server = await startRedisServer();
  const instance = await startApp({
    REDIS_URL: server.url,
    SECRET_KEY: randomBytes(32).toString('base64'),
    KEY_PREFIX: 'rpc',
    LOG_LEVEL: 'info',
  });
  await instance.waitForLine(/listening/);
  const bare = await bareRelay(server.url);
  try {
    progress(`${CONNECTIONS} connections, ${options.seconds} s per round`);
    const { ours, baseline } = await alternate(
      options.rounds,
      {
        baseline: () => load(bare.url, options.seconds),
        ours: () => load(`${instance.url}/rpc`, options.seconds),
      },
      'req/s',
    );
    const o = summarise(ours);
    const b = summarise(baseline);
    writeResult({
      name: 'rpc',
      ...environment(redisVersion()),
      params: {
        connections: CONNECTIONS,
        seconds: options.seconds,
        rounds: options.rounds,
        trainers: TRAINERS,
      },
      ours: { figure: o.rate, unit: 'req/s', ...o },
      baseline: { name: 'bare express + one XADD', figure: b.rate, ...b },
      ratio: Math.round((o.rate / b.rate) * 100) / 100,
      target: 'record (ours waits for the handled command)',
    });
  } finally {
    await bare.close();
    await instance.stop('SIGTERM');
    await server.stop();
  }
}
