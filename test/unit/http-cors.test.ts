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
    expect((await pre.json()).error).to.include('CORS_ORIGINS');
    const call = await fetch(`${server.base}/rpc`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example.net' },
    });
    expect(call.status).to.equal(200); // the browser, not the server, hides it from the page
    expect(call.headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('allows same origin only without CORS_ORIGINS; `*` allows any origin', async () => {
    server = await listen(appWith(undefined));
    expect((await preflight(server.base, 'https://app.example.com')).status).to.equal(403);
    const plain = await fetch(`${server.base}/rpc`, { method: 'POST' });
    expect(plain.headers.get('access-control-allow-origin')).to.equal(null);
    await server.close();
    server = await listen(appWith(['*']));
    const pre = await preflight(server.base, 'https://anywhere.example.org');
    expect(pre.headers.get('access-control-allow-origin')).to.equal('https://anywhere.example.org');
  });

  it('leaves paths other than /rpc and the streams alone', async () => {
    server = await listen(appWith(['https://app.example.com']));
    const health = await fetch(`${server.base}/healthz`, {
      headers: { Origin: 'https://app.example.com' },
    });
    expect(health.headers.get('access-control-allow-origin')).to.equal(null);
  });
});
