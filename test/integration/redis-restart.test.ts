/**
 * Redis restart under load: AOF on with `appendfsync always`, `redis-server` SIGKILLed and started
 * again on its data while three instances take moves and SSE clients follow trainer streams.
 * Every answered command is in the log exactly once; instances turn not ready and ready again
 * without a restart; SSE clients miss and repeat nothing (or get stream.reset).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from '../../scripts/lib/redis-server.js';
import { keysFor } from '../../src/events/keys.js';
import { eventsByCommand } from '../support/global-log.js';
import { startMoves } from '../support/moves.js';
import { readyStatus } from '../support/readiness.js';

const TRAINERS = 6;
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A client of `/streams/trainer-<user>/events` that reconnects as a browser does: after an end or
 * a failed try, again after a moment, with `Last-Event-ID`, to the same instance (until `moveTo`);
 * an answer other than 200 stops it for good, as it stops a browser.
 */
class StreamFollower {
  readonly versions: number[] = [];
  resets = 0;
  reconnects = 0;
  private abort = new AbortController();
  private stopped = false;
  private at: number;

  constructor(
    private readonly urls: readonly string[],
    readonly user: string,
    start: number,
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
      const last = this.versions.at(-1);
      try {
        const res = await fetch(
          `${this.urls[this.at % this.urls.length]}/streams/trainer-${this.user}/events`,
          {
            headers: { 'X-User-Id': this.user, ...(last ? { 'Last-Event-ID': String(last) } : {}) },
            signal: this.abort.signal,
          },
        );
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
    const id = /^id: (\d+)$/m.exec(text)?.[1];
    if (/^event: stream\.reset$/m.test(text)) this.resets += 1;
    if (id !== undefined) this.versions.push(Number(id));
  }
}

/** `/readyz` statuses of `url`, every 50 ms, until `running()` is false; repeats collapsed. */
async function readinessOf(url: string, running: () => boolean): Promise<number[]> {
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

(redisServerAvailable() ? describe : describe.skip)(
  'Redis restart under load (AOF, appendfsync always)',
  function () {
    this.timeout(120_000);
    let server: RedisServer | undefined;
    let dir = '';
    let apps: AppProcess[] = [];
    afterEach(async () => {
      await Promise.all(apps.map((a) => a.stop('SIGKILL')));
      apps = [];
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps every answered command once, recovers instances and SSE clients without a restart', async () => {
      dir = mkdtempSync(join(tmpdir(), 'streamcast-restart-'));
      server = await startRedisServer({ args: AOF, dir });
      const port = server.port;
      const env = {
        REDIS_URL: server.url,
        KEY_PREFIX: 'restart',
        SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
        COMMAND_TIMEOUT_MS: '4000',
        SSE_RETRY_MS: '200',
        LOG_LEVEL: 'warn',
      };
      apps = await Promise.all([0, 1, 2].map((i) => startApp({ ...env, SERVER_ID: `r${i}` })));
      for (const app of apps) expect(await readyStatus(app.url, 20_000)).to.equal(200);
      const urls = apps.map((a) => a.url);
      let watching = true;
      const readiness = apps.map((a) => readinessOf(a.url, () => watching));

      const load = startMoves({ urls: () => urls, trainers: TRAINERS, inFlight: 6 });
      await sleep(1000); // every trainer has events before the clients follow
      // three stay on instance 0; three start on instance 1 and move to instance 2 during the
      // outage (its first stream request comes while Redis is away)
      const followers = Array.from(
        { length: TRAINERS },
        (_, i) => new StreamFollower(urls, `t${i}`, i < 3 ? 0 : 1),
      );
      await sleep(1500);

      const answeredBefore = load.answers.length;
      const killedAt = Date.now();
      await server.stop(); // SIGKILL
      await sleep(600);
      for (const f of followers.slice(3)) f.moveTo(2);
      await sleep(3400);
      server = await startRedisServer({ args: AOF, dir, port });
      const downMs = Date.now() - killedAt;
      for (const app of apps) expect(await readyStatus(app.url, 30_000), app.url).to.equal(200);
      await sleep(2000);
      await load.stop();

      // the log: every answered command once, every trainer stream without a gap
      const redis = new Redis(server.url);
      try {
        const byCommand = await eventsByCommand(redis, 'restart');
        const answered = load.answers.map((a) => a.commandId);
        const lost = answered.filter((id) => !byCommand.has(id));
        const doubled = answered.filter((id) => (byCommand.get(id) ?? 0) > 1);
        const keys = keysFor('restart');
        const heads: number[] = [];
        for (let i = 0; i < TRAINERS; i++) {
          const entries = await redis.xrange(keys.stream(`trainer-t${i}`), '-', '+');
          heads.push(entries.length);
        }
        // the SSE clients: everything up to each stream's head, once, in order (or a reset)
        for (const [i, f] of followers.entries()) {
          const deadline = Date.now() + 15_000;
          while ((f.versions.at(-1) ?? 0) < heads[i]! && Date.now() < deadline) await sleep(100);
        }
        for (const f of followers) f.stop();
        const missing = followers.map((f, i) => {
          const want = Array.from(
            { length: heads[i]! - (f.versions[0] ?? 1) + 1 },
            (_, v) => v + (f.versions[0] ?? 1),
          );
          return want.filter((v) => !f.versions.includes(v)).length;
        });
        const repeated = followers.map((f) => f.versions.length - new Set(f.versions).size);
        watching = false;
        const seen = await Promise.all(readiness);
        process.stdout.write(
          `      Redis down ${downMs} ms; ${answered.length} moves answered (${answeredBefore} before the kill), ${load.retries} failed tries retried with the same command id, ${lost.length} lost, ${doubled.length} doubled; SSE: ${followers.map((f) => f.versions.length).join('/')} events, ${missing.reduce((a, b) => a + b)} missing, ${repeated.reduce((a, b) => a + b)} repeated, ${followers.reduce((a, f) => a + f.resets, 0)} resets, reconnects ${followers.map((f) => f.reconnects).join('/')} (the last 3 moved); readiness ${seen.map((x) => x.join('→')).join(', ')}\n`,
        );
        expect(load.retries, 'the fault must bite: some call failed').to.be.greaterThan(0);
        expect(followers.map((f) => f.gaveUp ?? 'following')).to.deep.equal(
          followers.map(() => 'following'),
        );
        expect(lost).to.deep.equal([]);
        expect(doubled).to.deep.equal([]);
        // a client told stream.reset refetches its state: only the others must miss nothing
        const unreset = (counts: number[]) => counts.map((n, i) => (followers[i]!.resets ? 0 : n));
        expect(unreset(missing), 'events missed per client').to.deep.equal([0, 0, 0, 0, 0, 0]);
        expect(unreset(repeated), 'events repeated per client').to.deep.equal([0, 0, 0, 0, 0, 0]);
        for (const statuses of seen) expect(statuses).to.deep.equal([200, 503, 200]);
      } finally {
        redis.disconnect();
      }
    });
  },
);
