import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import type { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import type { RpcCallError } from '../../src/client/index.js';
import { readyStatus } from '../support/readiness.js';
import { adminMessage, rpcAs } from '../support/realtime.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';
import { SseClient } from '../support/sse.js';

/** `POST /api/v1/sse/subscribe` on `app` as `userId`. */
function postSubscribe(app: AppProcess, userId: string, body: unknown): Promise<Response> {
  return fetch(`${app.url}/api/v1/sse/subscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': userId },
    body: JSON.stringify(body),
  });
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DESIGN.md G6 and the session directory: isolation, subscriptions from any instance, presence. */
describeWithRedis('realtime access, subscriptions and presence', function () {
  this.timeout(120_000);
  let redis: Redis;
  let prefix: string;
  let a: AppProcess;
  let b: AppProcess;
  const clients: { close(): void }[] = [];
  const secret = randomBytes(32).toString('base64');

  const start = async (slot: string, env: Record<string, string> = {}) => {
    const app = await startApp({
      REDIS_URL: testRedisUrl(),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: slot,
      SSE_HEARTBEAT_MS: '300',
      PRESENCE_TTL_MS: '1500',
      LOG_LEVEL: 'info',
      ...env,
    });
    await app.waitForLine(/listening/);
    expect(await readyStatus(app.url), `${slot} ready`).to.equal(200);
    return app;
  };
  const client = (app: AppProcess, query: Record<string, string>) => {
    const c = new SseClient(app.url, query);
    clients.push(c);
    return c;
  };
  const opened = (...cs: SseClient[]) =>
    Promise.all(
      cs.map((c) => c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened')),
    );

  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  beforeEach(async () => {
    prefix = uniquePrefix('ra');
    [a, b] = await Promise.all([start(`a-${prefix}`), start(`b-${prefix}`)]);
    await wait(500);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await clearPrefix(redis, prefix);
  });

  it('never delivers what is addressed to one user to another, whatever the topics', async () => {
    const ash = client(a, { userId: 'ash', groups: 'gym' });
    const mistyAll = client(a, { userId: 'misty', topics: '>' });
    const mistyB = client(b, { userId: 'misty', topics: 'message.*,message.>' });
    const mistyPlain = client(b, { userId: 'misty' });
    await opened(ash, mistyAll, mistyB, mistyPlain);
    await adminMessage(a.url, {
      targetType: 'user',
      targetIds: ['ash'],
      method: 'message.chat',
      params: { text: 'hi ash' },
      topic: 'message.chat',
    });
    await rpcAs(b.url, 'brock').call('message.broadcast', {
      targetType: 'user',
      targetIds: ['ash'],
      method: 'message.chat',
      params: { text: 'from brock' },
    });
    await adminMessage(b.url, {
      targetType: 'group',
      targetIds: ['gym'],
      method: 'message.chat',
      params: { text: 'gym' },
    });
    await adminMessage(a.url, {
      targetType: 'broadcast',
      method: 'message.chat',
      params: { text: 'all' },
      topic: 'message.all',
    });
    await ash.until((x) => x.of('message.chat').length >= 4, 10_000, 'four messages for ash');
    await wait(500);
    expect(ash.of('message.chat').map((f) => f.params.text)).to.deep.equal([
      'hi ash',
      'from brock',
      'gym',
      'all',
    ]);
    expect(ash.of('message.chat')[1]!.params.from, 'the real sender').to.equal('brock');
    for (const misty of [mistyAll, mistyB, mistyPlain]) {
      expect(
        misty.of('message.chat').map((f) => f.params.text),
        'misty gets only the broadcast',
      ).to.deep.equal(['all']);
    }
  });

  it('refuses a non-admin broadcast, server methods and topics, and bad credentials', async () => {
    const brock = rpcAs(a.url, 'brock');
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: unknown) => (e as RpcCallError).code,
      );
    const refusals: [Record<string, unknown>, number][] = [
      [{ targetType: 'broadcast' }, -32003],
      [{ targetType: 'group', targetIds: ['gym'] }, -32003],
      [{ targetType: 'user', targetIds: ['ash'], method: 'position.update' }, -32602],
      [{ targetType: 'user', targetIds: ['ash'], topic: 'trainer.ash' }, -32602],
    ];
    for (const [params, code] of refusals) {
      const sent = brock.call('message.broadcast', {
        method: 'message.chat',
        params: {},
        ...params,
      });
      expect(await codeOf(sent), JSON.stringify(params)).to.equal(code);
    }
    expect((await fetch(`${a.url}/events?userId=bad%20id`)).status, 'a bad user id').to.equal(401);
    expect(
      (await fetch(`${a.url}/events?userId=ash&topics=a..b`)).status,
      'a bad topic pattern',
    ).to.equal(400);
    const jwtApp = await start(`jwt-${prefix}`, { AUTH_MODE: 'jwt', JWT_SECRET: 's'.repeat(32) });
    try {
      const bad = await fetch(`${jwtApp.url}/events`, {
        headers: { Authorization: 'Bearer not.a.token' },
      });
      expect(bad.status, 'a bad token').to.equal(401);
      expect(((await bad.json()) as { errorCode: string }).errorCode).to.equal('UNAUTHENTICATED');
      const other = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ash')
        .sign(new TextEncoder().encode('x'.repeat(32)));
      expect(
        (await fetch(`${jwtApp.url}/events`, { headers: { Authorization: `Bearer ${other}` } }))
          .status,
        'signed with another secret',
      ).to.equal(401);
      const good = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ash')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('s'.repeat(32)));
      const ok = await fetch(`${jwtApp.url}/events`, {
        headers: { Authorization: `Bearer ${good}` },
      });
      expect(ok.status).to.equal(200);
      await ok.body?.cancel();
    } finally {
      await jwtApp.stop();
    }
  });

  it('takes a subscription change made through the other instance, and keeps it across a reconnect', async () => {
    const first = client(a, { userId: 'ash', sessionId: 'ash-tab-1', topics: 'trainer.t1' });
    await opened(first);
    const change = await postSubscribe(b, 'ash', {
      sessionId: 'ash-tab-1',
      topics: ['trainer.t2'],
    });
    expect(change.status).to.equal(200);
    const foreign = await postSubscribe(b, 'misty', { sessionId: 'ash-tab-1', topics: ['>'] });
    const missing = await postSubscribe(b, 'misty', { sessionId: 'no-such-tab', topics: ['>'] });
    expect(
      [foreign.status, missing.status],
      "another user's session, as a missing one",
    ).to.deep.equal([404, 404]);
    await wait(300);
    const move = (trainerId: string) =>
      rpcAs(b.url, trainerId).call('trainer.move', {
        action: 'start',
        directionX: 1,
        directionY: 0,
      });
    await move('t1');
    await move('t2');
    await first.until((x) => x.of('position.update').length >= 1, 10_000, 'an update');
    await wait(300);
    expect(first.of('position.update').map((f) => f.params.trainerId)).to.deep.equal(['t2']);
    first.close();
    // the browser reconnects to the same URL (topics=trainer.t1): the stored subscription wins
    const again = client(b, {
      userId: 'ash',
      sessionId: 'ash-tab-1',
      topics: 'trainer.t1',
      lastEventId: first.lastId()!,
    });
    await opened(again);
    await move('t1');
    await move('t2');
    await again.until((x) => x.of('position.update').length >= 1, 10_000, 'an update');
    await wait(300);
    expect(again.of('position.update').map((f) => f.params.trainerId)).to.deep.equal(['t2']);
    const unknown = await postSubscribe(a, 'ash', { sessionId: 'never-opened', topics: ['>'] });
    expect(unknown.status).to.equal(404);
  });

  it('shows sessions per instance in presence and system.status, and forgets a SIGKILLed instance', async () => {
    const sessions = [
      client(a, { userId: 'u1' }),
      client(a, { userId: 'u2' }),
      client(a, { userId: 'u2' }),
      client(b, { userId: 'u3' }),
    ];
    await opened(...sessions);
    await wait(800); // a presence write (every third of PRESENCE_TTL_MS)
    type Status = {
      sessions: number;
      connectedUsers: number;
      presence: { serverId: string; sessions: number; connectedUsers: number; users?: string[] }[];
    };
    const status = await rpcAs(a.url, 'oak').call<Status>('system.status');
    expect([status.sessions, status.connectedUsers]).to.deep.equal([3, 2]);
    expect(status.presence).to.deep.equal([
      { serverId: `a-${prefix}`, sessions: 3, connectedUsers: 2 },
      { serverId: `b-${prefix}`, sessions: 1, connectedUsers: 1 },
    ]);
    const asAdmin = await rpcAs(a.url, 'oak', { 'X-User-Roles': 'admin' }).call<Status>(
      'system.status',
    );
    expect(asAdmin.presence.map((p) => p.users)).to.deep.equal([['u1', 'u2'], ['u3']]);
    await b.stop('SIGKILL');
    await wait(2500); // past PRESENCE_TTL_MS
    const after = await rpcAs(a.url, 'oak').call<Status>('system.status');
    expect(after.presence.map((p) => p.serverId)).to.deep.equal([`a-${prefix}`]);
  });

  it('replays one stream from a version, then follows it live', async () => {
    const ash = rpcAs(a.url, 'ash');
    for (let i = 0; i < 5; i++)
      await ash.call('trainer.move', { action: 'start', directionX: 1, directionY: i });
    const versions: number[] = [];
    const source = new EventSource(`${b.url}/streams/trainer-ash/events?fromVersion=2&userId=ash`);
    clients.push(source);
    source.addEventListener('TrainerMoved', (e) =>
      versions.push((JSON.parse(e.data) as { version: number }).version),
    );
    const deadline = Date.now() + 10_000;
    while (versions.length < 4 && Date.now() < deadline) await wait(50);
    await ash.call('trainer.move', { action: 'stop' });
    await ash.call('trainer.move', { action: 'start', directionX: 0, directionY: 1 });
    while (versions.length < 6 && Date.now() < deadline) await wait(50);
    expect(versions).to.deep.equal([2, 3, 4, 5, 6, 7]);
    expect(
      (await fetch(`${b.url}/streams/trainer-misty/events?userId=ash`)).status,
      "another user's stream",
    ).to.equal(403);
  });

  it('past SSE_MAX_CONNECTIONS answers 200 with a jittered retry and closes, so the browser tries again', async () => {
    const small = await start(`small-${prefix}`, {
      SSE_MAX_CONNECTIONS: '2',
      SSE_RETRY_MS: '1000',
    });
    try {
      const held = [client(small, { userId: 'u1' }), client(small, { userId: 'u2' })];
      await opened(...held);
      const refused = await fetch(`${small.url}/events?userId=u3`);
      expect(refused.status).to.equal(200);
      expect(refused.headers.get('content-type')).to.match(/^text\/event-stream/);
      const body = await refused.text(); // ends: the stream is closed at once
      const retry = Number(/^retry: (\d+)\n\n$/.exec(body)?.[1]);
      expect(retry).to.be.within(1000, 3000);
      await small.waitForLine(/event stream refused/, 5000);
    } finally {
      await small.stop();
    }
  });
});
