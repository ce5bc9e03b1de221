/**
 * The nginx template (deploy/nginx) in front of a stand-in upstream: `/metrics` stays internal in
 * every spelling nginx could otherwise pass on, and the browser's Host reaches the instance with
 * its port (the same-site check of cookie requests compares it with Origin). Needs nginx: fails
 * under CI without it, skips locally with the reason printed.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { nginxInFrontOf, requireNginx } from '../support/nginx.js';

/** GET `path` exactly as written (no URL normalisation), with optional headers. */
function get(base: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ host: hostname, port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('nginx template: /metrics blocked in every spelling; Host passed on', function () {
  this.timeout(30_000);
  before(function () {
    requireNginx(this);
  });

  it('answers 404 itself for /metrics, /METRICS, /metrics/ and the like, and proxies the rest', async () => {
    let proxied = 0;
    await nginxInFrontOf(
      async (res) => {
        proxied += 1;
        res.end('from the instance');
      },
      async (url) => {
        proxied = 0; // not nginx's start-up probe
        const blocked = [
          '/metrics',
          '/METRICS',
          '/Metrics',
          '/metrics/',
          '/METRICS/',
          '/metrics/x',
          '//metrics',
          '/%6Detrics',
          '/metrics?x=1',
        ];
        const answers = await Promise.all(blocked.map((p) => get(url, p)));
        expect(answers.map((a) => a.status)).to.deep.equal(blocked.map(() => 404));
        expect(answers.every((a) => !a.body.includes('from the instance'))).to.equal(true);
        expect(proxied, 'none reached the instance').to.equal(0);
        for (const path of ['/rpc', '/metricsx', '/healthz']) {
          expect((await get(url, path)).status, path).to.equal(200);
        }
        expect(proxied).to.equal(3);
      },
    );
  });

  it("passes the browser's Host on with its port, for the same-site check of cookie requests", async () => {
    const seen: (string | undefined)[] = [];
    await nginxInFrontOf(
      async (res) => {
        seen.push(res.req.headers.host);
        res.end();
      },
      async (url) => {
        seen.length = 0;
        await get(url, '/rpc', { Host: 'app.example.com:8443' });
        expect(seen).to.deep.equal(['app.example.com:8443']);
      },
    );
  });
});
