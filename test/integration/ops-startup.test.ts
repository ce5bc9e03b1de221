import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { freePort, startRedisServer } from '../../scripts/lib/redis-server.js';
import { keysFor } from '../../src/events/keys.js';
import { InstanceRegistry } from '../../src/ops/index.js';
import { readyStatus } from '../support/readiness.js';
import { describeWithRedis, testRedisUrl, uniquePrefix } from '../support/redis.js';

const secretKey = randomBytes(32).toString('base64');

/** The JSON log lines of a process that match `pattern`. */
function logLines(app: AppProcess, pattern: RegExp): Record<string, unknown>[] {
  return app
    .output()
    .split('\n')
    .filter((l) => pattern.test(l))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describeWithRedis('start-up checks and SERVER_ID on Redis (npm start)', function () {
  this.timeout(60_000);
  let apps: AppProcess[] = [];
  let prefix: string;
  const start = async (env: Record<string, string | undefined>) => {
    const app = await startApp({ SECRET_KEY: secretKey, KEY_PREFIX: prefix, ...env });
    apps.push(app);
    return app;
  };
  beforeEach(() => {
    prefix = uniquePrefix('startup');
  });
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.stop('SIGKILL')));
    apps = [];
  });

  it('refuses a second instance with a live SERVER_ID, in one line with the fix', async () => {
    const env = { REDIS_URL: testRedisUrl(), SERVER_ID: 'twin' };
    const first = await start(env);
    await first.waitForLine(/start-up checks passed/);
    const second = await start(env);
    expect(await second.exited).to.equal(1);
    const [refusal, ...more] = logLines(second, /is held by a live instance/);
    expect(more).to.deep.equal([]);
    expect(refusal).to.include({ level: 'error', component: 'startup' });
    expect(refusal!.message)
      .to.include('streamcast cannot start: SERVER_ID twin is held by a live instance')
      .and.include(`pid ${first.pid}`)
      .and.include('Fix: give this instance a distinct SERVER_ID');
    expect(second.output()).not.to.include('start-up checks passed');
    expect(await readyStatus(first.url)).to.equal(200);
  });

  it('frees the SERVER_ID at once on a graceful stop, and SERVER_TTL_MS after a crash', async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      SERVER_ID: 'phoenix',
      // longer than a start-up on a busy machine, so the early start still finds the entry
      SERVER_TTL_MS: '5000',
      SHUTDOWN_GRACE_MS: '2000',
    };
    const first = await start(env);
    await first.waitForLine(/start-up checks passed/);
    expect(await first.stop('SIGTERM')).to.equal(0);
    const second = await start(env);
    await second.waitForLine(/start-up checks passed/);
    await second.stop('SIGKILL'); // a crash: the entry stays until it expires
    const early = await start(env);
    expect(await early.exited).to.equal(1);
    expect(early.output()).to.include(
      'if that instance has just crashed, its entry expires within',
    );
    await new Promise((resolve) => setTimeout(resolve, 5200));
    const later = await start(env);
    await later.waitForLine(/start-up checks passed/);
  });

  it('refuses a Redis whose maxmemory-policy can evict keys (allkeys-* and volatile-*)', async () => {
    const server = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    const admin = new Redis(server.url);
    try {
      for (const [policy, risk] of [
        ['allkeys-lru', 'events and streams included'],
        ['volatile-ttl', 'exactly-once records of handled commands'],
      ] as const) {
        await admin.config('SET', 'maxmemory-policy', policy);
        const app = await start({ REDIS_URL: server.url });
        expect(await app.exited, policy).to.equal(1);
        const [refusal] = logLines(app, /maxmemory-policy is/);
        expect(refusal, policy).to.include({ level: 'error' });
        expect(refusal!.message)
          .to.include(`streamcast cannot start: Redis maxmemory-policy is ${policy}`)
          .and.include(risk)
          .and.include('Fix: set maxmemory-policy noeviction');
      }
      expect(await InstanceRegistry.live(admin, keysFor(prefix))).to.deep.equal([]);
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });

  it('warns when Redis runs without AOF, and not when AOF is on', async () => {
    const withoutAof = await start({ REDIS_URL: testRedisUrl() });
    await withoutAof.waitForLine(/start-up checks passed/);
    const [warning] = logLines(withoutAof, /"check":"aof"/);
    expect(warning).to.include({ level: 'warn' });
    expect(warning!.message).to.include('without AOF').and.include('Fix: set appendonly yes');
    const server = await startRedisServer({ args: ['--appendonly', 'yes'] });
    try {
      const withAof = await start({ REDIS_URL: server.url });
      await withAof.waitForLine(/start-up checks passed/);
      expect(logLines(withAof, /"check":/)).to.deep.equal([]);
      expect(await readyStatus(withAof.url)).to.equal(200);
    } finally {
      await server.stop();
    }
  });

  it('is not ready until Redis is reachable and the checks pass, then serves', async () => {
    const port = await freePort();
    const app = await start({ REDIS_URL: `redis://127.0.0.1:${port}` });
    await app.waitForLine(/unreachable/);
    const waiting = (await (await fetch(`${app.url}/readyz`)).json()) as {
      failing: { name: string }[];
    };
    expect(waiting.failing.map((f) => f.name)).to.include.members(['redis', 'commands']);
    const late = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', ''],
      {
        stdio: 'ignore',
      },
    );
    try {
      await app.waitForLine(/start-up checks passed/, 20_000);
      expect(await readyStatus(app.url)).to.equal(200);
    } finally {
      late.kill('SIGKILL');
    }
  });
});

describe('start-up checks with the in-memory store', () => {
  it('skips them and is ready', async function () {
    this.timeout(30_000);
    const app = await startApp({});
    try {
      await app.waitForLine(/listening/);
      expect(await readyStatus(app.url)).to.equal(200);
      expect(app.output()).not.to.include('start-up checks');
    } finally {
      await app.stop();
    }
  });
});
