import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { keysFor } from '../../src/events/keys.js';
import { InstanceRegistry } from '../../src/ops/index.js';
import { readyStatus, watchReadiness } from '../support/readiness.js';
import { describeWithRedis, testClient, testRedisUrl, uniquePrefix } from '../support/redis.js';

/** DESIGN.md §7's order, as the instance logs its shutdown steps. */
const STEPS = [
  /shutdown: answer \/readyz with 503 for 1000 ms/,
  /shutdown: close SSE sessions with a jittered retry/,
  /shutdown: stop accepting connections; answer the requests in flight/,
  /shutdown: stop reading commands and deployment jobs; finish or release those in flight/,
  /shutdown: give up projection and archiver leases/,
  /shutdown: stop retention/,
  /shutdown: leave the instance registry/,
  /shutdown: close the store and Redis/,
  /shutdown: export the spans still held/,
  /"message":"stopped"/,
];

function stepLines(app: AppProcess): { index: number; at: number }[] {
  const lines = app.output().split('\n');
  return STEPS.map((step) => {
    const index = lines.findIndex((l) => step.test(l));
    const at = index < 0 ? Number.NaN : Date.parse(JSON.parse(lines[index]!).timestamp);
    return { index, at };
  });
}

async function move(url: string, userId: string) {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': userId },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'trainer.move',
      params: { action: 'start', directionX: 1, directionY: 0, commandId: randomUUID() },
    }),
  });
  return (await res.json()) as { result?: { version: number }; error?: unknown };
}

describeWithRedis('graceful shutdown of an instance on Redis (SIGTERM)', function () {
  this.timeout(60_000);
  let app: AppProcess | undefined;
  let redis: Redis;
  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
    redis?.disconnect();
  });

  it('flips readiness to 503 first, keeps serving meanwhile, then stops in DESIGN.md §7 order', async () => {
    const prefix = uniquePrefix('shutdown');
    redis = testClient();
    app = await startApp({
      REDIS_URL: testRedisUrl(),
      SECRET_KEY: randomBytes(32).toString('base64'),
      KEY_PREFIX: prefix,
      SERVER_ID: 'leaving',
      SHUTDOWN_GRACE_MS: '5000',
    });
    expect(await readyStatus(app.url)).to.equal(200);
    expect((await move(app.url, 'before')).result?.version).to.equal(1);
    const polling = watchReadiness(app.url, 50);
    process.kill(app.pid, 'SIGTERM');
    await app.waitForLine(/shutdown: answer \/readyz/);
    expect((await move(app.url, 'during')).result?.version, 'served while draining').to.equal(1);
    expect(await app.exited).to.equal(0);
    const answers = await polling;
    const steps = stepLines(app);
    expect(
      steps.map((s) => s.index >= 0),
      'every step logged',
    ).to.deep.equal(STEPS.map(() => true));
    const order = steps.map((s) => s.index);
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    const first503 = answers.find((a) => a.status === 503);
    expect(first503, 'readiness seen at 503').not.to.equal(undefined);
    expect(first503!.at).to.be.lessThan(steps[1]!.at); // before it stopped taking connections
    const sigtermAt = steps[0]!.at;
    expect(answers.filter((a) => a.at > sigtermAt + 100).every((a) => a.status === 503)).to.equal(
      true,
    );
    expect(await InstanceRegistry.live(redis, keysFor(prefix))).to.deep.equal([]);
    const consumers = (await redis.xinfo(
      'CONSUMERS',
      keysFor(prefix).commands,
      'handlers',
    )) as unknown[][];
    expect(consumers.map((c) => c[1])).not.to.include('leaving');
  });
});

describe('graceful shutdown with the in-memory store', () => {
  it('stops cleanly on SIGTERM with exit code 0', async function () {
    this.timeout(30_000);
    const app = await startApp({ SHUTDOWN_GRACE_MS: '2000' });
    try {
      await app.waitForLine(/listening/);
      expect((await move(app.url, 'mem')).result?.version).to.equal(1);
      expect(await app.stop('SIGTERM')).to.equal(0);
      expect(app.output()).to.include('"message":"stopped"');
    } finally {
      await app.stop();
    }
  });
});
