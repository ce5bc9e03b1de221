import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import type { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { subscribe } from '../../src/client/index.js';
import { startMoves } from '../support/moves.js';
import { readyStatus } from '../support/readiness.js';
import { notifyHead, notifyIds, strictlyIncreasing } from '../support/realtime.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';
import { entryOf, SseClient } from '../support/sse.js';

/** DESIGN.md G5 across two instances: each notification once per matching session, in stream order. */
describeWithRedis('realtime delivery across instances', function () {
  this.timeout(120_000);
  let redis: Redis;
  let prefix: string;
  let a: AppProcess;
  let b: AppProcess;
  const clients: { close(): void }[] = [];

  const start = (slot: string) =>
    startApp({
      REDIS_URL: testRedisUrl(),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${prefix}`,
      SSE_HEARTBEAT_MS: '500',
      SSE_RETRY_MS: '200',
      LOG_LEVEL: 'info',
    });
  const secret = randomBytes(32).toString('base64');

  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  beforeEach(async () => {
    prefix = uniquePrefix('rt');
    [a, b] = await Promise.all([start('a'), start('b')]);
    expect(await Promise.all([readyStatus(a.url), readyStatus(b.url)])).to.deep.equal([200, 200]);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await clearPrefix(redis, prefix);
  });

  const client = (app: AppProcess, query: Record<string, string>) => {
    const c = new SseClient(app.url, query);
    clients.push(c);
    return c;
  };
  const opened = (c: SseClient) =>
    c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened');

  it('delivers every notification once, in stream order, to matching sessions on both instances', async () => {
    const onA = client(a, { userId: 'watcher-a', topics: 'trainer.>' });
    const onB = client(b, { userId: 'watcher-b' });
    await Promise.all([opened(onA), opened(onB)]);
    const load = startMoves({ urls: () => [a.url, b.url], trainers: 20, inFlight: 16, limit: 600 });
    await load.done;
    const expected = await notifyIds(redis, prefix);
    expect(expected).to.have.length(600);
    for (const c of [onA, onB]) {
      await c.until(
        (x) => x.of('position.update').length >= expected.length,
        20_000,
        'all updates',
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would arrive now
      const got = c.of('position.update').map((f) => entryOf(f.id));
      expect(got, 'ids in stream order, each once').to.deep.equal(expected);
    }
    process.stdout.write(
      `      moves 600 sent to A and B alternately; each session received 600 of 600, in order\n`,
    );
  });

  it('resumes on the other instance from the last id, missing nothing and repeating nothing', async () => {
    const first = client(a, { userId: 'r1' });
    await opened(first);
    const load = startMoves({ urls: () => [a.url, b.url], trainers: 10, inFlight: 8 });
    await first.until((x) => x.of('position.update').length >= 50, 20_000, '50 updates');
    first.close();
    const lastId = first.lastId()!;
    await new Promise((resolve) => setTimeout(resolve, 700)); // notifications keep flowing meanwhile
    const missedUpTo = await notifyHead(redis, prefix);
    const second = client(b, { userId: 'r1', lastEventId: lastId });
    await opened(second);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await load.stop();
    const all = await notifyIds(redis, prefix);
    const afterLast = all.slice(all.indexOf(entryOf(lastId)) + 1);
    await second.until(
      (x) => x.of('position.update').length >= afterLast.length,
      20_000,
      'the rest',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumed = second.of('position.update').map((f) => entryOf(f.id));
    const missed = afterLast.filter(
      (id) => strictlyIncreasing([id, missedUpTo]) || id === missedUpTo,
    ).length;
    process.stdout.write(
      `      received ${first.of('position.update').length} on A, missed ${missed} while away, then ${resumed.length} on B (resumedFrom ${lastId})\n`,
    );
    expect(second.of('session.opened')[0]!.params.resumedFrom).to.equal(lastId);
    expect(second.of('stream.reset')).to.deep.equal([]);
    expect(missed, 'notifications written while the client was away').to.be.greaterThan(0);
    expect(resumed).to.deep.equal(afterLast);
    const seenIds = [...first.of('position.update'), ...second.of('position.update')].map((f) =>
      entryOf(f.id),
    );
    expect(seenIds).to.deep.equal(all);
  });

  it('closes sessions with a retry hint on SIGTERM; the typed client continues on the other instance without loss', async () => {
    const raw = await fetch(`${a.url}/events?userId=raw`);
    const reader = raw.body!.getReader();
    let rawText = '';
    const rawDone = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        rawText += new TextDecoder().decode(value);
      }
    })();
    const received: string[] = [];
    const sub = subscribe({
      urls: [a.url, b.url],
      query: { userId: 'typed' },
      retryMs: 100,
      EventSource: EventSource as never,
      onNotification: (_method, _params, id) => received.push(entryOf(id)),
    });
    clients.push(sub);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const load = startMoves({ urls: () => [b.url], trainers: 10, inFlight: 8 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const beforeStop = received.length;
    await a.stop('SIGTERM');
    await rawDone;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await load.stop();
    const all = await notifyIds(redis, prefix);
    const deadline = Date.now() + 15_000;
    while (received.length < all.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const retry = /retry: (\d+)\n\n$/.exec(rawText);
    process.stdout.write(
      `      ${beforeStop} notifications before SIGTERM, ${received.length} of ${all.length} in all over ${sub.connections} connections; closing retry ${retry?.[1]} ms\n`,
    );
    expect(retry, 'the last frame of a closed stream is a retry hint').to.not.equal(null);
    expect(Number(retry![1])).to.be.within(200, 600);
    expect(sub.connections).to.be.greaterThan(1);
    expect(received).to.deep.equal(all);
  });
});
