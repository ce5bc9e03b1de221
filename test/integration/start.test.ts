import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { freePort } from '../../scripts/lib/redis-server.js';
import { readyStatus } from '../support/readiness.js';
import { describeWithRedis, testRedisUrl, uniquePrefix } from '../support/redis.js';

const secretKey = randomBytes(32).toString('base64');

describe('npm start (src/main.ts)', function () {
  this.timeout(30_000);
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('runs on the in-memory store without REDIS_URL and says so', async () => {
    app = await startApp({});
    const line = await app.waitForLine(/in-memory store/);
    expect(JSON.parse(line)).to.include({ level: 'warn', store: 'memory' });
    await app.waitForLine(/listening/);
    const health = await (await fetch(`${app.url}/healthz`)).json();
    expect(health).to.include({ status: 'ok', store: 'memory' });
    expect(await readyStatus(app.url)).to.equal(200);
  });

  it('stops with one line per configuration problem', async () => {
    app = await startApp({
      PORT: '8080',
      LOG_LEVEL: 'loud',
      SSE_RETRY_MS: 'soon',
      NODE_ENV: 'production',
    });
    expect(await app.exited).to.equal(1);
    const out = app.output();
    expect(out).to.match(/LOG_LEVEL: /);
    expect(out).to.match(/SSE_RETRY_MS: /);
    app = await startApp({ NODE_ENV: 'production' });
    expect(await app.exited).to.equal(1);
    expect(app.output()).to.match(/STORE: the in-memory store is refused/);
    expect(app.output()).to.match(/AUTH_MODE: "none" is refused/);
  });

  it('with an unreachable REDIS_URL says so, is not ready, and never falls back to memory', async () => {
    const port = await freePort();
    app = await startApp({ REDIS_URL: `redis://127.0.0.1:${port}`, SECRET_KEY: secretKey });
    const line = await app.waitForLine(/unreachable/);
    expect(line).to.include(`127.0.0.1:${port}`).and.include('never falls back');
    await app.waitForLine(/listening/);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.nested.include({ 'failing[0].name': 'redis' });
    expect(app.output()).not.to.match(/in-memory/);
  });

  describeWithRedis('with REDIS_URL', () => {
    it('uses Redis and is ready', async () => {
      app = await startApp({
        REDIS_URL: testRedisUrl(),
        SECRET_KEY: secretKey,
        KEY_PREFIX: uniquePrefix('start'),
      });
      await app.waitForLine(/using the Redis event store/);
      await app.waitForLine(/connected to Redis/);
      await app.waitForLine(/start-up checks passed/);
      expect(await readyStatus(app.url)).to.equal(200); // ready once its workers run
      expect(await (await fetch(`${app.url}/healthz`)).json()).to.include({ store: 'redis' });
    });
  });
});
