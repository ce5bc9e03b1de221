import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './redis-server.js';

/** A streamcast instance started as its own process (`node --import tsx src/main.ts`). */
export interface AppProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first output line matching `pattern`; rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGKILL (default) or another signal, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts an instance with `env` on a free port (unless `env.PORT` is given); `entry` is the
 * program (default `src/main.ts`; tests start one with toy commands added to the catalogue).
 */
export async function startApp(
  env: Record<string, string | undefined>,
  entry = 'src/main.ts',
): Promise<AppProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  // BENCH_CPU_PROF=<dir>: the instance writes a CPU profile there when it stops with SIGTERM
  const profile = process.env.BENCH_CPU_PROF;
  const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profiling, '--import', 'tsx', entry], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = output.split('\n').find((l) => pattern.test(l));
        if (line === undefined) return false;
        cleanup();
        resolve(line);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${output}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      if (!check()) waiters.add(check);
      void exited.then(() => setTimeout(check, 10));
    });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    output: () => output,
    waitForLine,
    exited,
    stop: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
