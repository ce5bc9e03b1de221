import { Writable } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import winston from 'winston';
import { ConfigError } from '../../src/errors.js';
import { type AuthOptions, authenticate, callerOf } from '../../src/http/auth.js';
import { TokenLifetime } from '../../src/http/token-lifetime.js';
import { silentLogger } from '../../src/log.js';
import { listen, type Running } from '../support/http.js';

const SECRET = 'a-test-secret-that-is-long-enough-1234';

/** An app answering `GET /whoami` with the caller (or `{caller: null}`). */
function whoamiApp(options: AuthOptions): express.Express {
  const app = express();
  app.get('/whoami', authenticate(options), (_req, res) => {
    res.json({ caller: callerOf(res) ?? null });
  });
  return app;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    headers: response.headers,
    // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
    body: (await response.json()) as any,
  };
}

function hs256(claims: JWTPayload, options: { secret?: string; expiresIn?: string | number } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

function capturingLogger(lines: string[]): winston.Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
}

describe('authenticate', () => {
  let server: Running;
  afterEach(async () => server?.close());

  describe('AUTH_MODE=none', () => {
    let logLines: string[];
    beforeEach(async () => {
      logLines = [];
      server = await listen(whoamiApp({ mode: 'none', logger: capturingLogger(logLines) }));
    });

    it('warns once that callers are trusted blindly', () => {
      const warnings = logLines.map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
      expect(warnings).to.have.length(1);
      expect(warnings[0].message).to.match(/AUTH_MODE=none/);
    });

    it('defaults to the anonymous caller', async () => {
      const { status, body } = await get(`${server.base}/whoami`);
      expect(status).to.equal(200);
      expect(body.caller).to.deep.equal({
        userId: 'anonymous',
        groups: [],
        roles: [],
        isAdmin: false,
      });
    });

    it('reads X-User-Id, X-User-Groups and X-User-Roles; admin makes an admin', async () => {
      const { body } = await get(`${server.base}/whoami`, {
        'X-User-Id': 'oak',
        'X-User-Groups': 'kanto, league,',
        'X-User-Roles': 'admin,professor',
      });
      expect(body.caller).to.deep.equal({
        userId: 'oak',
        groups: ['kanto', 'league'],
        roles: ['admin', 'professor'],
        isAdmin: true,
      });
    });

    it('reads the userId, groups and roles queries (for EventSource)', async () => {
      const { body } = await get(`${server.base}/whoami?userId=misty&groups=cerulean&roles=leader`);
      expect(body.caller).to.deep.equal({
        userId: 'misty',
        groups: ['cerulean'],
        roles: ['leader'],
        isAdmin: false,
      });
    });

    it('prefers headers over queries', async () => {
      const { body } = await get(`${server.base}/whoami?userId=misty`, { 'X-User-Id': 'brock' });
      expect(body.caller.userId).to.equal('brock');
    });

    it('answers 401 with a JSON-RPC -32001 body to a bad user id', async () => {
      for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', '']) {
        const { status, body } = await get(
          `${server.base}/whoami?userId=${encodeURIComponent(bad)}`,
        );
        expect(status, bad).to.equal(401);
        expect(body.jsonrpc).to.equal('2.0');
        expect(body.id).to.equal(null);
        expect(body.error.code).to.equal(-32001);
        expect(body.error.message).to.match(/1-128 characters/);
        expect(body).to.not.have.property('result');
      }
    });

    it('answers 401 to a bad group or role id, and to a repeated userId query', async () => {
      expect(
        (await get(`${server.base}/whoami`, { 'X-User-Groups': 'ok,not ok' })).status,
      ).to.equal(401);
      expect((await get(`${server.base}/whoami?roles=a/b`)).status).to.equal(401);
      expect((await get(`${server.base}/whoami?userId=a&userId=b`)).status).to.equal(401);
    });
  });

  describe('AUTH_MODE=jwt with JWT_SECRET (HS256)', () => {
    let logLines: string[];
    const start = async (extra: Partial<AuthOptions> = {}) => {
      logLines = [];
      server = await listen(
        whoamiApp({ mode: 'jwt', jwtSecret: SECRET, logger: capturingLogger(logLines), ...extra }),
      );
    };

    it('accepts a valid bearer token and maps sub, groups and roles', async () => {
      await start();
      const token = await hs256({ sub: 'ash', groups: ['kanto'], roles: ['admin'] });
      const { status, body } = await get(`${server.base}/whoami`, {
        Authorization: `Bearer ${token}`,
      });
      expect(status).to.equal(200);
      expect(body.caller).to.deep.equal({
        userId: 'ash',
        groups: ['kanto'],
        roles: ['admin'],
        isAdmin: true,
      });
    });

    it('accepts the sc_token cookie and the access_token query', async () => {
      await start();
      const token = await hs256({ sub: 'misty' });
      const byCookie = await get(`${server.base}/whoami`, {
        Cookie: `theme=dark; sc_token=${token}`,
      });
      expect(byCookie.body.caller).to.deep.equal({
        userId: 'misty',
        groups: [],
        roles: [],
        isAdmin: false,
      });
      const byQuery = await get(`${server.base}/whoami?access_token=${token}`);
      expect(byQuery.body.caller.userId).to.equal('misty');
    });

    it('prefers the Authorization header over the cookie', async () => {
      await start();
      const header = await hs256({ sub: 'by-header' });
      const cookie = await hs256({ sub: 'by-cookie' });
      const { body } = await get(`${server.base}/whoami`, {
        Authorization: `Bearer ${header}`,
        Cookie: `sc_token=${cookie}`,
      });
      expect(body.caller.userId).to.equal('by-header');
    });

    it('refuses an expired token with 401, never echoing the token', async () => {
      await start();
      const token = await hs256({ sub: 'ash' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
      const { status, headers, body } = await get(`${server.base}/whoami`, {
        Authorization: `Bearer ${token}`,
      });
      expect(status).to.equal(401);
      expect(headers.get('www-authenticate')).to.match(/^Bearer/);
      expect(body).to.deep.equal({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32001, message: 'the token has expired: sign in again' },
      });
      expect(logLines.join('\n')).to.not.include(token);
      expect(logLines.join('\n')).to.include('expired');
    });

    it('refuses a token signed with another secret', async () => {
      await start();
      const token = await hs256(
        { sub: 'ash' },
        { secret: 'another-secret-that-is-long-enough-99' },
      );
      const { status, body } = await get(`${server.base}/whoami?access_token=${token}`);
      expect(status).to.equal(401);
      expect(body.error.message).to.equal('the token signature is invalid');
      expect(JSON.stringify(body)).to.not.include(token);
      expect(logLines.join('\n')).to.not.include(token);
    });

    it('accepts tokens signed with a JWT_SECRET_PREVIOUS secret, with the same claim checks', async () => {
      const old1 = 'the-previous-secret-that-is-long-enough-1';
      const old2 = 'the-secret-before-that-one-long-enough-22';
      await start({ jwtSecretsPrevious: [old1, old2] });
      for (const secret of [SECRET, old1, old2]) {
        const token = await hs256({ sub: 'ash' }, { secret });
        const { status, body } = await get(`${server.base}/whoami`, {
          Authorization: `Bearer ${token}`,
        });
        expect(status, secret).to.equal(200);
        expect(body.caller.userId).to.equal('ash');
      }
      const stranger = await hs256(
        { sub: 'ash' },
        { secret: 'never-configured-secret-long-enough-333' },
      );
      const refused = await get(`${server.base}/whoami`, { Authorization: `Bearer ${stranger}` });
      expect(refused.status).to.equal(401);
      expect(refused.body.error.message).to.equal('the token signature is invalid');
      const expiredOld = await hs256(
        { sub: 'ash' },
        { secret: old2, expiresIn: Math.floor(Date.now() / 1000) - 60 },
      );
      const expired = await get(`${server.base}/whoami`, { Authorization: `Bearer ${expiredOld}` });
      expect(expired.body.error.message).to.equal('the token has expired: sign in again');
    });

    it('refuses missing credentials, malformed tokens, non-Bearer schemes and unsigned tokens', async () => {
      await start();
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"ash"}').toString('base64url')}.`;
      const cases: Record<string, string>[] = [
        {},
        { Authorization: 'Bearer not-a-jwt' },
        { Authorization: 'Basic YXNoOnBpa2FjaHU=' },
        { Authorization: `Bearer ${unsigned}` },
      ];
      for (const headers of cases) {
        const { status, body } = await get(`${server.base}/whoami`, headers);
        expect(status, JSON.stringify(headers)).to.equal(401);
        expect(body.error.code).to.equal(-32001);
        expect(JSON.stringify(body)).to.not.include('YXNoOnBpa2FjaHU');
      }
    });

    it('refuses a token without a valid sub, or with groups that are not ids', async () => {
      await start();
      for (const claims of [
        {},
        { sub: 'has space' },
        { sub: 'ash', groups: 'kanto' },
        { sub: 'ash', roles: [1] },
      ]) {
        const token = await hs256(claims);
        const { status } = await get(`${server.base}/whoami`, { Authorization: `Bearer ${token}` });
        expect(status, JSON.stringify(claims)).to.equal(401);
      }
    });

    it('checks the issuer and audience when configured', async () => {
      await start({ issuer: 'https://id.example', audience: 'streamcast' });
      const good = await new SignJWT({ sub: 'ash' })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer('https://id.example')
        .setAudience('streamcast')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
      expect(
        (await get(`${server.base}/whoami`, { Authorization: `Bearer ${good}` })).status,
      ).to.equal(200);
      const wrong = await hs256({ sub: 'ash', iss: 'https://evil.example', aud: 'streamcast' });
      const refused = await get(`${server.base}/whoami`, { Authorization: `Bearer ${wrong}` });
      expect(refused.status).to.equal(401);
      expect(refused.body.error.message).to.equal("the token's iss claim is not accepted");
    });

    it('lets requests without credentials through without a caller when allowAnonymous is set', async () => {
      await start({ allowAnonymous: true });
      const anonymous = await get(`${server.base}/whoami`);
      expect(anonymous.status).to.equal(200);
      expect(anonymous.body.caller).to.equal(null);
      expect((await get(`${server.base}/whoami`, { Authorization: 'Bearer bad' })).status).to.equal(
        401,
      );
    });

    it('answers 401 with the body the caller chose (the REST side)', async () => {
      await start({
        unauthorizedBody: (error) => ({
          error: { code: 'UNAUTHENTICATED', message: error.message },
        }),
      });
      const { status, body } = await get(`${server.base}/whoami`);
      expect(status).to.equal(401);
      expect(body.error.code).to.equal('UNAUTHENTICATED');
      expect(body.error.message).to.match(/credentials required/);
    });
  });

  describe('token lifetime (JWT_REQUIRE_EXP, JWT_MAX_LIFETIME_S)', () => {
    const nowS = () => Math.floor(Date.now() / 1000);
    /** HS256 with exactly the `iat` and `exp` given (none when undefined). */
    const signed = (claims: { iat?: number; exp?: number }) => {
      let jwt = new SignJWT({ sub: 'ash' }).setProtectedHeader({ alg: 'HS256' });
      if (claims.iat !== undefined) jwt = jwt.setIssuedAt(claims.iat);
      if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
      return jwt.sign(new TextEncoder().encode(SECRET));
    };
    const statusOf = async (token: string) => {
      const { status, body } = await get(`${server.base}/whoami`, {
        Authorization: `Bearer ${token}`,
      });
      return { status, message: body.error?.message as string | undefined };
    };

    it('refuses a token without exp, unless JWT_REQUIRE_EXP=false', async () => {
      server = await listen(whoamiApp({ mode: 'jwt', jwtSecret: SECRET, logger: silentLogger }));
      const forever = await signed({ iat: nowS() });
      const refused = await statusOf(forever);
      expect(refused.status).to.equal(401);
      expect(refused.message).to.match(/no exp claim.*JWT_REQUIRE_EXP/);
      expect((await statusOf(await signed({ iat: nowS(), exp: nowS() + 60 }))).status).to.equal(
        200,
      );
      await server.close();
      server = await listen(
        whoamiApp({
          mode: 'jwt',
          jwtSecret: SECRET,
          logger: silentLogger,
          lifetime: new TokenLifetime({ requireExp: false }),
        }),
      );
      expect((await statusOf(forever)).status, 'JWT_REQUIRE_EXP=false').to.equal(200);
    });

    it('refuses a token issued longer ago than JWT_MAX_LIFETIME_S, whatever its exp, and one issued in the future', async () => {
      server = await listen(
        whoamiApp({
          mode: 'jwt',
          jwtSecret: SECRET,
          logger: silentLogger,
          lifetime: new TokenLifetime({ maxLifetimeS: 3600 }),
        }),
      );
      const yearLong = { exp: nowS() + 365 * 86400 };
      expect((await statusOf(await signed({ ...yearLong, iat: nowS() - 3500 }))).status).to.equal(
        200,
      );
      const old = await statusOf(await signed({ ...yearLong, iat: nowS() - 3700 }));
      expect(old.status).to.equal(401);
      expect(old.message).to.match(/older than JWT_MAX_LIFETIME_S/);
      const future = await statusOf(await signed({ ...yearLong, iat: nowS() + 3600 }));
      expect(future.status).to.equal(401);
      expect(future.message).to.match(/issued in the future/);
    });

    it('counts the lifetime of a token without iat from when it was first seen', () => {
      let now = 1_000_000_000_000;
      const lifetime = new TokenLifetime({ maxLifetimeS: 3600, now: () => now });
      const payload = { sub: 'ash', exp: now / 1000 + 365 * 86400 };
      lifetime.check('token-a', payload);
      now += 3599_000;
      lifetime.check('token-a', payload);
      lifetime.check('token-b', payload); // first seen now
      now += 2000;
      expect(() => lifetime.check('token-a', payload)).to.throw(/older than JWT_MAX_LIFETIME_S/);
      lifetime.check('token-b', payload);
    });
  });

  describe('AUTH_MODE=jwt with JWT_JWKS_URL', () => {
    let jwks: Running;
    let privateKey: CryptoKey;

    before(async () => {
      const pair = await generateKeyPair('RS256');
      privateKey = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
      const app = express();
      app.get('/jwks.json', (_req, res) => {
        res.json({ keys: [jwk] });
      });
      jwks = await listen(app);
    });
    after(async () => jwks.close());

    beforeEach(async () => {
      server = await listen(
        whoamiApp({ mode: 'jwt', jwksUrl: `${jwks.base}/jwks.json`, logger: silentLogger }),
      );
    });

    it('accepts an RS256 token whose key is in the set', async () => {
      const token = await new SignJWT({ sub: 'ash', roles: ['trainer'] })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setExpirationTime('5m')
        .sign(privateKey);
      const { status, body } = await get(`${server.base}/whoami`, {
        Authorization: `Bearer ${token}`,
      });
      expect(status).to.equal(200);
      expect(body.caller).to.deep.equal({
        userId: 'ash',
        groups: [],
        roles: ['trainer'],
        isAdmin: false,
      });
    });

    it('refuses an HS256 token when no JWT_SECRET is configured', async () => {
      const token = await hs256({ sub: 'ash' });
      const { status } = await get(`${server.base}/whoami`, { Authorization: `Bearer ${token}` });
      expect(status).to.equal(401);
    });
  });

  it('refuses AUTH_MODE=jwt without JWT_SECRET or JWT_JWKS_URL', () => {
    expect(() => authenticate({ mode: 'jwt', logger: silentLogger })).to.throw(ConfigError);
  });
});
