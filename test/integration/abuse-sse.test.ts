/**
 * The abuse suite of hardening issue 12 (its CORS, JWT and SSE-limit findings): for each finding
 * a request can exploit, the exploiting request is sent to a real instance on a real Redis, gets
 * its refusal, and the instance keeps answering `/healthz` within a generous bound meanwhile.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { keysFor } from '../../src/index.js';
import { connectBoth } from '../support/deployments.js';
import { checkHealthDuringEach } from '../support/health-watch.js';
import { readyStatus } from '../support/readiness.js';
import { rpcAs } from '../support/realtime.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';
import { SseClient } from '../support/sse.js';
import { type OpenedStream, openStream } from '../support/sse-open.js';
import { eventually, stalledReader } from '../support/stalled-reader.js';

const SECRET = 'abuse-suite-current-secret-long-enough-1';
const PREVIOUS = 'abuse-suite-previous-secret-long-enough-0';
const EVIL = 'https://evil.example.net';

/** An HS256 token of `sub` with exactly the `iat`/`exp` given (seconds), signed with `secret`. */
function token(sub: string, claims: { iat?: number; exp?: number }, secret = SECRET) {
  let jwt = new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' });
  if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}

const nowS = () => Math.floor(Date.now() / 1000);
const say = (line: string) => process.stdout.write(`      ${line}\n`);

describeWithRedis(
  'abuse (real instances on Redis): each exploit of the SSE, CORS and JWT findings is refused',
  function () {
    this.timeout(180_000);
    let redis: Redis;
    let prefix: string;
    let app: AppProcess; // AUTH_MODE=none, small SSE limits
    let jwtApp: AppProcess; // AUTH_MODE=jwt, CORS_ORIGINS=*
    const streams: OpenedStream[] = [];
    const clients: SseClient[] = [];

    const open = async (base: string, path: string, headers: Record<string, string> = {}) => {
      const s = await openStream(`${base}${path}`, headers);
      streams.push(s);
      return s;
    };

    before(async () => {
      redis = testClient();
      prefix = uniquePrefix('abuse');
      const common = {
        REDIS_URL: testRedisUrl(),
        SECRET_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'info',
      };
      [app, jwtApp] = await Promise.all([
        startApp({
          ...common,
          KEY_PREFIX: prefix,
          SERVER_ID: `a-${prefix}`,
          SSE_MAX_CONNECTIONS_PER_USER: '4',
          SSE_MAX_SESSIONS_PER_USER: '3',
          SSE_STALL_TIMEOUT_MS: '1500',
          DEPLOY_SIM_STEP_MS: '10',
        }),
        startApp({
          ...common,
          KEY_PREFIX: `${prefix}-jwt`,
          SERVER_ID: `j-${prefix}`,
          AUTH_MODE: 'jwt',
          JWT_SECRET: SECRET,
          JWT_SECRET_PREVIOUS: PREVIOUS,
          JWT_MAX_LIFETIME_S: '3600',
          CORS_ORIGINS: '*',
        }),
      ]);
      expect(await readyStatus(app.url, 20_000)).to.equal(200);
      expect(await readyStatus(jwtApp.url, 20_000)).to.equal(200);
    });
    after(async () => {
      await Promise.all([app?.stop(), jwtApp?.stop()]);
      await clearPrefix(redis, prefix);
      await clearPrefix(redis, `${prefix}-jwt`);
      redis.disconnect();
    });
    checkHealthDuringEach(
      () => app.url,
      () => {
        for (const s of streams.splice(0)) s.close();
        for (const c of clients.splice(0)) c.close();
      },
    );

    it('refuses quadratic filters (700 fields, 17 fields, 33 values) with 400 naming the limit', async () => {
      const fields = (n: number, values = 'x') =>
        Array.from({ length: n }, (_, i) => `filter.f${i}=${values}`).join('&');
      const many = Array.from({ length: 33 }, (_, i) => `v${i}`).join(',');
      const cases = [fields(700), fields(17), `filter.a=${many}`];
      const answers = await Promise.all(cases.map((q) => open(app.url, `/events?userId=eve&${q}`)));
      expect(answers.map((a) => a.status)).to.deep.equal([400, 400, 400]);
      expect(answers[0]!.text).to.match(/700 filter fields, at most 16 \(SSE_MAX_FILTERS\)/);
      expect(answers[2]!.text).to.match(/SSE_MAX_FILTER_VALUES/);
      say(
        `${answers.filter((a) => a.status === 400).length} of 3 oversized filter requests refused with 400`,
      );
      const within = await open(app.url, `/events?userId=eve&${fields(16)}`);
      expect(within.admitted, '16 fields are fine').to.equal(true);
    });

    it('never lets a sender pose as another through FROM, and takes filter.constructor as a field', async () => {
      const gary = new SseClient(app.url, { userId: 'gary', 'filter.from': 'brock' });
      clients.push(gary);
      await gary.until((c) => c.of('session.opened').length > 0, 10_000, 'session.opened');
      const odd = await open(app.url, '/events?userId=gary&filter.constructor=x');
      expect(odd.admitted, 'filter.constructor is a field like any other').to.equal(true);
      const send = (from: string, params: Record<string, string>) =>
        rpcAs(app.url, from).call('message.broadcast', {
          targetType: 'user',
          targetIds: ['gary'],
          method: 'message.chat',
          params,
        });
      await send('misty', { FROM: 'brock', text: 'spoof 1' });
      await send('misty', { f_r_o_m: 'brock', text: 'spoof 2' });
      await send('brock', { text: 'real' }); // delivered in order: after both spoofs
      await gary.until((c) => c.of('message.chat').length > 0, 10_000, 'a message');
      expect(
        gary.of('message.chat').map((f) => f.params.text),
        'only brock',
      ).to.deep.equal(['real']);
    });

    it('refuses credentials beside CORS_ORIGINS=*, Origin null, and cross-site cookie writes', async () => {
      const good = await token('ash', { iat: nowS(), exp: nowS() + 600 });
      const preflight = await fetch(`${jwtApp.url}/rpc`, {
        method: 'OPTIONS',
        headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST' },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal('*');
      expect(preflight.headers.get('access-control-allow-credentials')).to.equal(null);
      for (const origin of [EVIL, 'null']) {
        const events = await open(jwtApp.url, '/events', {
          Origin: origin,
          Cookie: `sc_token=${good}`,
        });
        expect(events.admitted, `${origin}: the stream itself opens`).to.equal(true);
        // …but a browser never lets the page read it: no credentials beside `*`, nothing for null
        expect(await streamCors(jwtApp.url, origin)).to.deep.equal(
          origin === 'null' ? [null, null] : ['*', null],
        );
      }
      const call = (origin: string) =>
        fetch(`${jwtApp.url}/rpc`, {
          method: 'POST',
          headers: {
            Origin: origin,
            Cookie: `sc_token=${good}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system.status' }),
        }).then((r) => r.status);
      const statuses = await Promise.all([EVIL, 'null', EVIL, jwtApp.url].map(call));
      expect(
        statuses,
        '3 cross-site cookie calls refused, the same-site one answered',
      ).to.deep.equal([403, 403, 403, 200]);
      say(
        `cookie POST /rpc: ${statuses.filter((x) => x === 403).length} cross-site refused (403), same-site ${statuses[3]}`,
      );
      expect(jwtApp.output()).to.match(/CORS_ORIGINS=\*: .* only without credentials/);
    });

    it('refuses tokens without exp or past JWT_MAX_LIFETIME_S; accepts JWT_SECRET_PREVIOUS', async () => {
      const statusWith = async (jwt: string) =>
        (await fetch(`${jwtApp.url}/events`, { headers: { Cookie: `sc_token=${jwt}` } })).status;
      const forever = await token('ash', { iat: nowS() });
      const ancient = await token('ash', { iat: nowS() - 7200, exp: nowS() + 365 * 86400 });
      const rotated = await token('ash', { iat: nowS(), exp: nowS() + 600 }, PREVIOUS);
      const stranger = await token('ash', { iat: nowS(), exp: nowS() + 600 }, 'x'.repeat(40));
      expect(await statusWith(forever), 'no exp').to.equal(401);
      expect(await statusWith(ancient), 'older than the lifetime').to.equal(401);
      expect(await statusWith(stranger), 'unknown secret').to.equal(401);
      const ok = await open(jwtApp.url, '/events', { Cookie: `sc_token=${rotated}` });
      expect(ok.admitted, 'a previous secret').to.equal(true);
    });

    it('caps one user over every SSE route; a refused connection leaves no session record', async () => {
      await rpcAs(app.url, 'ash').call('trainer.move', {
        action: 'start',
        directionX: 1,
        directionY: 0,
      });
      const connections = await connectBoth(app.url, 'ash');
      const { deploymentId } = await rpcAs(app.url, 'ash').call<{ deploymentId: string }>(
        'deploy.start',
        { ...connections, owner: 'your-org', repo: 'slow-stage-2', branch: 'main' },
      );
      const q = '?userId=ash';
      const mine = [
        await open(app.url, `/events${q}`),
        await open(app.url, `/events${q}`),
        await open(app.url, `/streams/trainer-ash/events${q}`),
        await open(app.url, `/api/v1/deploy/${deploymentId}/events${q}`),
      ];
      const extra = [
        await open(app.url, `/events${q}&sessionId=ash-refused`),
        await open(app.url, `/streams/trainer-ash/events${q}`),
        await open(app.url, `/api/v1/deploy/${deploymentId}/events${q}`),
      ];
      const misty = await open(app.url, '/events?userId=misty');
      expect(
        mine.map((s) => s.admitted),
        'admitted',
      ).to.deep.equal([true, true, true, true]);
      expect(
        extra.map((s) => s.admitted),
        'refused',
      ).to.deep.equal([false, false, false]);
      expect(extra.map((s) => /^retry: \d+/.test(s.text))).to.deep.equal([true, true, true]);
      expect(misty.admitted, 'another user still gets in').to.equal(true);
      expect(await redis.exists(keysFor(prefix).sseSession('ash-refused'))).to.equal(0);
      expect(app.output()).to.match(/event stream refused \(SSE_MAX_CONNECTIONS_PER_USER\)/);
      say(
        `ash: ${mine.length} of ${mine.length + extra.length} streams over /events, /streams and the deployment admitted, ${extra.length} told to retry; misty admitted; no record for the refused sessionId`,
      );
    });

    it('caps client-chosen sessions per user and the size of a kept subscription', async () => {
      for (const id of ['m1', 'm2', 'm3']) {
        const s = await open(app.url, `/events?userId=mew&sessionId=${id}`);
        expect(s.admitted, id).to.equal(true);
      }
      const fourth = await open(app.url, '/events?userId=mew&sessionId=m4');
      expect(fourth.status).to.equal(400);
      expect(fourth.text).to.match(/SSE_MAX_SESSIONS_PER_USER/);
      expect(await redis.zcard(keysFor(prefix).sseUserSessions('mew'))).to.equal(3);
      const token60 = 'x'.repeat(60);
      const topics = Array.from({ length: 50 }, (_, i) => `t${i}.${token60}.${token60}.${token60}`);
      const big = await open(
        app.url,
        `/events?userId=mew2&sessionId=big&topics=${topics.join(',')}`,
      );
      expect(big.status).to.equal(400);
      expect(await redis.exists(keysFor(prefix).sseSession('big'))).to.equal(0);
    });

    it('cuts off readers that stall a backlog or a resume, and frees the slot of one that left', async () => {
      const blob = 'x'.repeat(15_000);
      for (let i = 0; i < 800; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, () =>
            rpcAs(app.url, 'eve').call('message.broadcast', {
              targetType: 'user',
              targetIds: ['eve'],
              method: 'message.big',
              params: { blob },
            }),
          ),
        );
      } // 12 MB in eve's message stream and in the notifications: more than any socket buffers
      const epoch = await redis.get(keysFor(prefix).notifyEpoch);
      const feed = await stalledReader(app.url, '/streams/messages-eve/events?userId=eve');
      const resume = await stalledReader(app.url, `/events?userId=eve&lastEventId=${epoch}:0-0`);
      const left = await stalledReader(app.url, '/streams/messages-eve/events?userId=eve');
      expect([feed.status, resume.status, left.status]).to.deep.equal([200, 200, 200]);
      left.destroy(); // gone while its backlog waits for the socket
      const cutOff = () => (app.output().match(/closed a slow (stream|SSE) reader/g) ?? []).length;
      expect(
        await eventually(() => cutOff() >= 2, 15_000),
        'both stalled readers cut off',
      ).to.equal(true);
      expect(app.output()).to.match(/closed a slow SSE reader \(its replay took nothing/);
      feed.destroy();
      resume.destroy();
      // every slot of eve's is free again: 4 streams get in, the 5th is told to retry
      const fresh: OpenedStream[] = [];
      for (let i = 0; i < 5; i++) fresh.push(await open(app.url, '/events?userId=eve'));
      expect(fresh.map((f) => f.admitted)).to.deep.equal([true, true, true, true, false]);
      say(
        `800 × 15 KB: ${cutOff()} stalled readers cut off (backlog, resume); afterwards ${fresh.filter((f) => f.admitted).length} of 5 new streams admitted (limit 4)`,
      );
    });

    it('serves /metrics only at exactly /metrics', async () => {
      const statuses = await Promise.all(
        ['/metrics', '/METRICS', '/metrics/', '/Metrics'].map((p) =>
          fetch(`${app.url}${p}`).then((r) => r.status),
        ),
      );
      expect(statuses).to.deep.equal([200, 404, 404, 404]);
    });
  },
);

/** `Access-Control-Allow-Origin` and `-Credentials` of `GET /events` from `origin`. */
async function streamCors(base: string, origin: string): Promise<(string | null)[]> {
  const res = await fetch(`${base}/events`, { headers: { Origin: origin } });
  await res.body?.cancel();
  return [
    res.headers.get('access-control-allow-origin'),
    res.headers.get('access-control-allow-credentials'),
  ];
}
