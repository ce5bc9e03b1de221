import { expect } from 'chai';
import express from 'express';
import { createApp } from '../../src/http/app.js';
import { listen, type Running } from '../support/http.js';

/** An app with CORS in front of a stand-in /rpc and /events, like main.ts assembles it. */
function appWith(origins: string[] | undefined) {
  const rpc = express.Router();
  rpc.post('/rpc', (_req, res) => void res.json({ ok: true }));
  rpc.all('/rpc', (_req, res) => void res.status(405).end());
  rpc.get('/events', (_req, res) => void res.type('text/event-stream').send('retry: 1\n\n'));
  rpc.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  return createApp({ health: express.Router(), rpc, cors: { origins } });
}

const preflight = (base: string, origin: string, path = '/rpc') =>
  fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'content-type,authorization',
    },
  });

describe('CORS per CORS_ORIGINS (src/http/cors.ts)', () => {
  let server: Running | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers a preflight from a listed origin, and lets it read answers with credentials', async () => {
    server = await listen(appWith(['https://app.example.com', 'http://localhost:3000/']));
    const pre = await preflight(server.base, 'https://app.example.com');
    expect(pre.status).to.equal(204);
    expect(pre.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
    expect(pre.headers.get('access-control-allow-credentials')).to.equal('true');
    expect(pre.headers.get('access-control-allow-methods')).to.equal('GET, POST');
    expect(pre.headers.get('access-control-allow-headers'))
      .to.include('Authorization')
      .and.include('Last-Event-ID');
    expect(pre.headers.get('vary')).to.include('Origin');
    const call = await fetch(`${server.base}/rpc`, {
      method: 'POST',
      headers: { Origin: 'http://localhost:3000' },
    });
    expect(call.headers.get('access-control-allow-origin')).to.equal('http://localhost:3000');
    expect(call.headers.get('access-control-expose-headers')).to.equal('X-Correlation-Id');
    const stream = await fetch(`${server.base}/events`, {
      headers: { Origin: 'https://app.example.com' },
    });
    expect(stream.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
  });

  it('refuses a preflight from an origin not listed, and gives its calls no CORS headers', async () => {
    server = await listen(appWith(['https://app.example.com']));
    const pre = await preflight(server.base, 'https://evil.example.net');
    expect(pre.status).to.equal(403);
    expect(pre.headers.get('access-control-allow-origin')).to.equal(null);
    expect((await pre.json()).message).to.include('CORS_ORIGINS');
    const call = await fetch(`${server.base}/rpc`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example.net' },
    });
    expect(call.status).to.equal(200); // the browser, not the server, hides it from the page
    expect(call.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('allows same origin only without CORS_ORIGINS; `*` allows any origin, never with credentials', async () => {
    server = await listen(appWith(undefined));
    expect((await preflight(server.base, 'https://app.example.com')).status).to.equal(403);
    const plain = await fetch(`${server.base}/rpc`, { method: 'POST' });
    expect(plain.headers.get('access-control-allow-origin')).to.equal(null);
    await server.close();
    server = await listen(appWith(['*', 'https://app.example.com']));
    const pre = await preflight(server.base, 'https://anywhere.example.org');
    expect(pre.status).to.equal(204);
    expect(pre.headers.get('access-control-allow-origin')).to.equal('*');
    expect(pre.headers.get('access-control-allow-credentials')).to.equal(null);
    const stream = await fetch(`${server.base}/events`, {
      headers: { Origin: 'https://anywhere.example.org', Cookie: 'sc_token=t' },
    });
    expect(stream.headers.get('access-control-allow-origin')).to.equal('*');
    expect(stream.headers.get('access-control-allow-credentials')).to.equal(null);
    const listed = await preflight(server.base, 'https://app.example.com');
    expect(listed.headers.get('access-control-allow-origin')).to.equal('https://app.example.com');
    expect(listed.headers.get('access-control-allow-credentials'), 'listed').to.equal('true');
  });

  it('never allows Origin: null, even with `*` or when listed', async () => {
    server = await listen(appWith(['*', 'null']));
    const pre = await preflight(server.base, 'null');
    expect(pre.status).to.equal(403);
    expect(pre.headers.get('access-control-allow-origin')).to.equal(null);
    const call = await fetch(`${server.base}/rpc`, { method: 'POST', headers: { Origin: 'null' } });
    expect(call.headers.get('access-control-allow-origin')).to.equal(null);
    expect(call.headers.get('access-control-allow-credentials')).to.equal(null);
  });

  it('refuses a state-changing request authenticated by the cookie unless it comes from this site or a listed origin', async () => {
    server = await listen(appWith(['*', 'https://app.example.com']));
    const post = (headers: Record<string, string>, path = '/rpc') =>
      fetch(`${server!.base}${path}`, { method: 'POST', headers }).then((r) => r.status);
    const cookie = { Cookie: 'theme=dark; sc_token=eyJ.x.y' };
    const refused: Record<string, string>[] = [
      { ...cookie, Origin: 'https://evil.example.net' }, // allowed by `*`, but not with the cookie
      { ...cookie, Origin: 'null' },
      { ...cookie, Origin: 'http://127.0.0.1:1' }, // same host, another port: another origin
      { ...cookie, 'Sec-Fetch-Site': 'cross-site' },
    ];
    const allowed: Record<string, string>[] = [
      { ...cookie, Origin: 'https://app.example.com' },
      { ...cookie, Origin: server.base },
      { ...cookie, 'Sec-Fetch-Site': 'same-origin' },
      cookie, // no Origin, no Sec-Fetch-Site: not a browser, nobody else's page made it
      { Origin: 'https://evil.example.net' }, // no cookie: whatever it carries, it chose to send
      { ...cookie, Origin: 'https://evil.example.net', Authorization: 'Bearer t' },
    ];
    const refusedStatuses = await Promise.all(refused.map((h) => post(h)));
    const allowedStatuses = await Promise.all(allowed.map((h) => post(h)));
    expect(refusedStatuses).to.deep.equal(refused.map(() => 403));
    expect(allowedStatuses).to.deep.equal(allowed.map(() => 200));
    const answer = await fetch(`${server.base}/api/v1/deploy`, {
      method: 'POST',
      headers: { ...cookie, Origin: 'https://evil.example.net' },
    });
    expect(answer.status, 'REST too').to.equal(403);
    expect((await answer.json()).message).to.match(/sc_token cookie .* CORS_ORIGINS/);
    const read = await fetch(`${server.base}/events`, {
      headers: { ...cookie, Origin: 'https://evil.example.net' },
    });
    expect(read.status, 'reads are not refused (the browser hides them)').to.equal(200);
  });

  it('leaves paths other than /rpc and the streams alone', async () => {
    server = await listen(appWith(['https://app.example.com']));
    const health = await fetch(`${server.base}/healthz`, {
      headers: { Origin: 'https://app.example.com' },
    });
    expect(health.headers.get('access-control-allow-origin')).to.equal(null);
  });
});
