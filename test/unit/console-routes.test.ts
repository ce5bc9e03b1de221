import { expect } from 'chai';
import express from 'express';
import { SignJWT } from 'jose';
import { createApp } from '../../src/http/app.js';
import { authenticate, callerIdentifier, callerOf } from '../../src/http/auth.js';
import { bundleConsole } from '../../src/http/console-bundle.js';
import { consoleRoutes } from '../../src/http/console-routes.js';
import { healthRoutes } from '../../src/http/health.js';
import { silentLogger } from '../../src/log.js';
import { listen, type Running } from '../support/http.js';

const SECRET = 'a-console-test-secret-that-is-long-enough';

function token(sub: string, roles: string[] = []): Promise<string> {
  return new SignJWT({ sub, roles, groups: ['kanto'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

/** The console's routes and a `/rpc` stand-in answering who the cookie says the caller is. */
async function serve(mode: 'none' | 'jwt', bundle = bundleConsole()): Promise<Running> {
  const auth = { mode, jwtSecret: SECRET, logger: silentLogger } as const;
  const whoami = express.Router();
  whoami.post('/rpc', authenticate(auth), (_req, res) => {
    res.json({ jsonrpc: '2.0', id: 1, result: callerOf(res)?.userId });
  });
  const app = createApp({
    health: healthRoutes({ serverId: 's', store: 'memory' }, []),
    rpc: whoami,
    console: consoleRoutes({
      authMode: mode,
      bundle,
      identify: callerIdentifier(auth),
      logger: silentLogger,
    }),
  });
  return listen(app);
}

const json = { 'content-type': 'application/json' };

describe('console routes', function () {
  this.timeout(20_000);
  const bundle = bundleConsole();
  let jwt: Running;
  let none: Running;
  before(async () => {
    jwt = await serve('jwt', bundle);
    none = await serve('none', bundle);
  });
  after(async () => {
    await jwt.close();
    await none.close();
  });

  it('serves the page, its bundled script and stylesheet at /, with a strict CSP', async () => {
    const page = await fetch(`${none.base}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('content-security-policy')).to.include("script-src 'self'");
    expect(await page.text()).to.include('<script type="module" src="/console.js">');
    const script = await fetch(`${none.base}/console.js`);
    expect(script.headers.get('content-type')).to.match(/^text\/javascript/);
    const js = await script.text();
    expect(js, 'the typed client is bundled').to.include('/events');
    expect(js).to.include('trainer.move');
    const css = await (await fetch(`${none.base}/console.css`)).text();
    expect(css, "uPlot's stylesheet is bundled").to.include('.uplot');
  });

  it('AUTH_MODE=none keeps no session on the server', async () => {
    const who = await (await fetch(`${none.base}/api/console/session`)).json();
    expect(who).to.deep.equal({ authMode: 'none', caller: null });
    const post = await fetch(`${none.base}/api/console/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: await token('ash') }),
    });
    expect(post.status).to.equal(400);
    expect(post.headers.get('set-cookie')).to.equal(null);
  });

  it('jwt: signing in verifies the token and keeps it in an HttpOnly SameSite=Strict cookie', async () => {
    const signIn = await fetch(`${jwt.base}/api/console/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: await token('ash', ['admin']) }),
    });
    expect(signIn.status).to.equal(200);
    expect(await signIn.json()).to.deep.equal({
      authMode: 'jwt',
      caller: { userId: 'ash', groups: ['kanto'], roles: ['admin'], isAdmin: true },
    });
    const cookie = signIn.headers.get('set-cookie') ?? '';
    expect(cookie).to.match(/^sc_token=[\w-]+\.[\w-]+\.[\w-]+;/);
    expect(cookie).to.include('HttpOnly');
    expect(cookie).to.include('SameSite=Strict');
    expect(cookie).to.include('Path=/');
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)?.[1]);
    expect(maxAge, 'lives as long as the token').to.be.within(3500, 3600);

    const sent = cookie.split(';')[0]!;
    const who = await (
      await fetch(`${jwt.base}/api/console/session`, { headers: { cookie: sent } })
    ).json();
    expect(who.caller.userId).to.equal('ash');
    const rpc = await fetch(`${jwt.base}/rpc`, {
      method: 'POST',
      headers: { ...json, cookie: sent },
      body: '{}',
    });
    expect((await rpc.json()).result, '/rpc reads the cookie').to.equal('ash');

    const out = await fetch(`${jwt.base}/api/console/session`, {
      method: 'DELETE',
      headers: { cookie: sent },
    });
    expect(out.status).to.equal(204);
    expect(out.headers.get('set-cookie')).to.match(/^sc_token=;.*Expires=Thu, 01 Jan 1970/);
  });

  it('jwt: a bad token is refused with the reason, and sets no cookie', async () => {
    const forged = `${(await token('ash')).slice(0, -4)}AAAA`;
    const refused = await fetch(`${jwt.base}/api/console/session`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ token: forged }),
    });
    expect(refused.status).to.equal(401);
    expect((await refused.json()).message).to.equal('the token signature is invalid');
    expect(refused.headers.get('set-cookie')).to.equal(null);
    const notJson = await fetch(`${jwt.base}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${await token('ash')}`,
    });
    expect(notJson.status, 'a form post (no preflight) cannot sign anyone in').to.equal(400);
    expect(notJson.headers.get('set-cookie')).to.equal(null);
    const who = await (
      await fetch(`${jwt.base}/api/console/session`, { headers: { cookie: `sc_token=${forged}` } })
    ).json();
    expect(who).to.deep.equal({ authMode: 'jwt', caller: null });
  });
});
