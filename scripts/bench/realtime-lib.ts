/**
 * Pieces shared by the realtime benchmarks (`notify-latency`, `fanout`): a clock comparable across
 * processes, helper scripts started as their own processes, SSE streams read with plain
 * `http.get`, small JSON POSTs, and waiting for an instance to be ready.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type Agent, type IncomingMessage, request } from 'node:http';
import { startApp } from '../lib/app-process.js';
import { freePort } from '../lib/redis-server.js';
import { type SseFrame, SseParser } from './sse-parser.js';

/**
 * Wall-clock milliseconds with sub-millisecond resolution. Processes started on one machine agree
 * on it to well under a millisecond (`performance.timeOrigin` is taken from the system clock), so
 * a time stamped in one process can be compared with one read in another.
 */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * `BENCH_CPU_PROF=<dir>`: instances and baseline servers run with `node --cpu-prof` writing
 * there (and are stopped with SIGTERM so the profiles are written).
 */
export const PROFILE_DIR = process.env.BENCH_CPU_PROF || undefined;

/** A helper script of scripts/bench run as its own process. */
export interface ScriptProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGKILL (SIGTERM when profiled), then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx scripts/bench/<file> …args`. With `readyLine`, resolves once its
 * stdout prints a matching line (stdout is otherwise discarded); with `ipc`, stdout and stderr
 * are inherited and a message channel is open. With `profile` and `BENCH_CPU_PROF` set, it runs
 * with `--cpu-prof` (the script must exit on SIGTERM).
 */
export async function startScript(
  file: string,
  args: readonly string[],
  options: { readonly readyLine?: RegExp; readonly ipc?: boolean; readonly profile?: boolean } = {},
): Promise<ScriptProcess> {
  const profiled = Boolean(options.profile && PROFILE_DIR);
  const child = spawn(
    process.execPath,
    [
      ...(profiled ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      '--import',
      'tsx',
      new URL(`./${file}`, import.meta.url).pathname,
      ...args,
    ],
    {
      stdio: options.ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: ScriptProcess = {
    child,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(profiled ? 'SIGTERM' : 'SIGKILL');
      }
      await exited;
    },
  };
  if (options.readyLine) {
    const pattern = options.readyLine;
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      child.stdout?.on('data', (chunk) => {
        seen += String(chunk);
        if (pattern.test(seen)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    });
  }
  return proc;
}

/** An open SSE stream. */
export interface SseStream {
  readonly res: IncomingMessage;
  /** Resolves when the stream ends or breaks. */
  readonly ended: Promise<void>;
  close(): void;
}

/**
 * Opens `GET url` as an event stream; `onFrame` gets each frame with the time (`nowMs`) its chunk
 * arrived. Resolves once the response headers are in (200 only).
 */
export function openSse(
  url: string,
  onFrame: (frame: SseFrame, at: number) => void,
  options: { readonly agent?: Agent; readonly headers?: Record<string, string> } = {},
): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: 'text/event-stream', ...options.headers },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (t: string) => {
            body += t;
          });
          res.on('end', () =>
            reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 200)}`)),
          );
          return;
        }
        res.setEncoding('utf8');
        let at = 0;
        const parser = new SseParser((frame) => onFrame(frame, at));
        res.on('data', (text: string) => {
          at = nowMs();
          parser.push(text);
        });
        const ended = new Promise<void>((done) => {
          res.once('close', () => done());
          res.once('error', () => done());
        });
        resolve({ res, ended, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** POSTs JSON and resolves with the parsed JSON answer (any status; the caller checks). */
export function postJson(
  url: string,
  body: unknown,
  options: { readonly agent?: Agent; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...options.headers,
        },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (t: string) => {
          answer += t;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(answer) });
          } catch {
            reject(new Error(`POST ${url}: HTTP ${res.statusCode} ${answer.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** A streamcast instance started for a benchmark. */
export interface Instance {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves once `/readyz` answers 200 (start-up checks passed, realtime started). */
  ready(): Promise<void>;
  /** SIGKILL, or SIGTERM when profiling (so the profile is written); waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts an instance (`src/main.ts` in its own process, scripts/lib/app-process.ts). With
 * `BENCH_CPU_PROF` set it is started with `--cpu-prof` instead (node refuses that flag in
 * NODE_OPTIONS) and stopped with SIGTERM so the profile is written on exit.
 */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  if (!PROFILE_DIR) {
    const app = await startApp(env);
    return {
      url: app.url,
      port: app.port,
      pid: app.pid,
      output: app.output,
      ready: () => waitReady(app.url, app.output),
      stop: async () => {
        await app.stop('SIGKILL');
      },
    };
  }
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--import', 'tsx', 'src/main.ts'],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    pid: child.pid ?? -1,
    output: () => output,
    ready: () => waitReady(url, () => output),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `GET <url>/readyz` answers 200 (start-up checks passed, realtime started). */
export async function waitReady(
  url: string,
  output: () => string = () => '',
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms: ${last}\n${output().slice(-2000)}`);
}

/** The quantile `q` (0..1) of a sorted array. */
export function sortedQuantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Rounds to two decimals. */
export function r2(n: number): number {
  return Math.round(n * 100) / 100;
}
