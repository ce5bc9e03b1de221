/**
 * Helpers of the Redis restart tests (`test/integration/redis-restart*.test.ts`): a redis-server
 * with its data in a directory of its own and three instances on it, an SSE client that
 * reconnects as a browser does, and a `/readyz` watcher.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { type RedisServer, startRedisServer } from '../../scripts/lib/redis-server.js';
import { readyStatus } from './readiness.js';

/** A redis-server (started with `args`, data in `dir`) and three instances on it, all ready. */
export interface RestartRig {
  server: RedisServer;
  readonly dir: string;
  readonly apps: readonly AppProcess[];
  readonly urls: readonly string[];
  /** Starts redis-server again on the same port and data (after `server.stop()`, a SIGKILL). */
  restartRedis(): Promise<void>;
  /** SIGKILLs every process it started and removes the data. */
  stop(): Promise<void>;
  /** Watches every instance's `/readyz` (`readinessOf`) until the function returned is called. */
  watchReadiness(): () => Promise<number[][]>;
}

/**
 * For a `describe`: an `afterEach` that stops what the function returned started, and that
 * function, `startRestartRig`'s.
 */
export function restartRigs(): (args: readonly string[], prefix: string) => Promise<RestartRig> {
  let rig: RestartRig | undefined;
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
  });
  return async (args, prefix) => {
    rig = await startRestartRig(args, prefix);
    return rig;
  };
}

/** Starts a `RestartRig` with keys under `prefix`; its instances are `<prefix>0`…`<prefix>2`. */
export async function startRestartRig(
  args: readonly string[],
  prefix: string,
): Promise<RestartRig> {
  const dir = mkdtempSync(join(tmpdir(), `streamcast-${prefix}-`));
  const apps: AppProcess[] = [];
  const urls: string[] = [];
  const rig: RestartRig = {
    server: await startRedisServer({ args, dir }),
    dir,
    apps,
    urls,
    restartRedis: async () => {
      rig.server = await startRedisServer({ args, dir, port: rig.server.port });
    },
    stop: async () => {
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      await rig.server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    watchReadiness: () => {
      let watching = true;
      const seen = apps.map((a) => readinessOf(a.url, () => watching));
      return () => {
        watching = false;
        return Promise.all(seen);
      };
    },
  };
  try {
    const env = {
      REDIS_URL: rig.server.url,
      KEY_PREFIX: prefix,
      SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
      COMMAND_TIMEOUT_MS: '4000',
      SSE_RETRY_MS: '200',
      LOG_LEVEL: 'warn',
    };
    const started = await Promise.allSettled(
      [0, 1, 2].map((i) => startApp({ ...env, SERVER_ID: `${prefix}${i}` })),
    );
    for (const s of started) if (s.status === 'fulfilled') apps.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    urls.push(...apps.map((a) => a.url));
    for (const app of apps) {
      const status = await readyStatus(app.url, 20_000);
      if (status !== 200) throw new Error(`${app.url} answered /readyz ${status}`);
    }
  } catch (error) {
    await rig.stop();
    throw error;
  }
  return rig;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client of `/streams/trainer-<user>/events` (or of `path`, e.g. `/events`) that reconnects as a
 * browser does: after an end or a failed try, again after a moment, with `Last-Event-ID`, to the
 * same instance (until `moveTo`); an answer other than 200 stops it for good, as it stops a browser.
 */
export class StreamFollower {
  /** The numeric ids received (the versions of a `/streams/…/events` stream). */
  readonly versions: number[] = [];
  /** Every id received, as sent; the last one is the `Last-Event-ID` of a reconnect. */
  readonly ids: string[] = [];
  resets = 0;
  /** How many ids had arrived at the last `stream.reset`. */
  idsAtReset = 0;
  reconnects = 0;
  private abort = new AbortController();
  private stopped = false;
  private at: number;

  constructor(
    private readonly urls: readonly string[],
    readonly user: string,
    start: number,
    private readonly path = `/streams/trainer-${user}/events`,
  ) {
    this.at = start;
    void this.loop();
  }

  /** Drops the connection now and reconnects to instance `index` from now on. */
  moveTo(index: number): void {
    this.at = index;
    this.abort.abort();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  /** Why it stopped for good, if it did. */
  gaveUp?: string;

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.abort = new AbortController();
      const last = this.ids.at(-1);
      try {
        const res = await fetch(`${this.urls[this.at % this.urls.length]}${this.path}`, {
          headers: { 'X-User-Id': this.user, ...(last ? { 'Last-Event-ID': last } : {}) },
          signal: this.abort.signal,
        });
        if (res.status !== 200) {
          this.gaveUp = `status ${res.status} from ${res.url}`;
          return;
        }
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          text += value;
          let end = text.indexOf('\n\n');
          while (end >= 0) {
            this.frame(text.slice(0, end));
            text = text.slice(end + 2);
            end = text.indexOf('\n\n');
          }
        }
      } catch {
        // aborted by moveTo, or the connection failed: reconnect
      }
      if (this.stopped) return;
      this.reconnects += 1;
      await sleep(200);
    }
  }

  private frame(text: string): void {
    const id = /^id: (\S+)$/m.exec(text)?.[1];
    if (/^event: stream\.reset$/m.test(text)) {
      this.resets += 1;
      this.idsAtReset = this.ids.length;
    }
    if (id === undefined) return;
    this.ids.push(id);
    if (/^\d+$/.test(id)) this.versions.push(Number(id));
  }
}

/** `/readyz` statuses of `url`, every 50 ms, until `running()` is false; repeats collapsed. */
export async function readinessOf(url: string, running: () => boolean): Promise<number[]> {
  const seen: number[] = [];
  while (running()) {
    const status = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      async (res) => {
        await res.body?.cancel();
        return res.status;
      },
      () => 0,
    );
    if (seen.at(-1) !== status) seen.push(status);
    await sleep(50);
  }
  return seen;
}
