import { request } from 'node:http';
import { expect } from 'chai';
import express from 'express';
import { metricsRoute } from '../../src/http/metrics-route.js';
import { Metrics } from '../../src/metrics.js';
import { listen, type Running } from '../support/http.js';

/** The status of GET `path`, sent exactly as written. */
function statusOf(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('GET /metrics only at exactly /metrics (src/http/metrics-route.ts)', () => {
  let server: Running | undefined;
  after(() => server?.close());

  it('serves /metrics, and not /METRICS, /Metrics, /metrics/ or other spellings', async () => {
    const app = express();
    app.use(metricsRoute(new Metrics({ serverId: 'test' })));
    server = await listen(app);
    expect(await statusOf(server.base, '/metrics')).to.equal(200);
    expect(await statusOf(server.base, '/metrics?name=x')).to.equal(200);
    const others = ['/METRICS', '/Metrics', '/metrics/', '/METRICS/', '//metrics', '/%6Detrics'];
    const statuses = await Promise.all(others.map((p) => statusOf(server!.base, p)));
    expect(statuses).to.deep.equal(others.map(() => 404));
  });
});
