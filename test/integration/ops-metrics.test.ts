import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { type Exposition, parseExposition, sampleValue } from '../support/prometheus.js';
import { readyStatus } from '../support/readiness.js';
import { describeWithRedis, testRedisUrl, uniquePrefix } from '../support/redis.js';

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).to.equal(200);
  expect(res.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.text());
}

async function call(
  url: string,
  method: string,
  params: object,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'ash', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: { code: number } };
}

const handled = (e: Exposition, outcome: string) =>
  sampleValue(e, 'streamcast_commands_handled_total', { type: 'MoveTrainer', outcome }) ?? 0;

describeWithRedis('GET /metrics and request logs of an instance on Redis', function () {
  this.timeout(30_000);
  let app: AppProcess;
  before(async () => {
    app = await startApp({
      REDIS_URL: testRedisUrl(),
      SECRET_KEY: randomBytes(32).toString('base64'),
      KEY_PREFIX: uniquePrefix('metrics'),
      SERVER_ID: 'metered',
      LOG_LEVEL: 'http',
    });
    expect(await readyStatus(app.url)).to.equal(200);
  });
  after(async () => {
    await app?.stop();
  });

  it('is valid Prometheus text exposition, every sample labelled with the server', async () => {
    const e = await scrape(app.url);
    expect(e.samples.every((s) => s.labels.server_id === 'metered')).to.equal(true);
    for (const name of [
      'streamcast_commands_handled_total',
      'streamcast_command_handling_seconds',
      'streamcast_commands_dead_total',
      'streamcast_redis_used_memory_bytes',
      'streamcast_command_group_pending',
      'streamcast_command_group_lag',
      'streamcast_dead_letters',
      'streamcast_http_requests_total',
      'streamcast_ready',
      'process_resident_memory_bytes',
    ]) {
      expect(e.types.has(name), name).to.equal(true);
    }
    expect(sampleValue(e, 'streamcast_ready')).to.equal(1);
    expect(sampleValue(e, 'streamcast_info', { store: 'redis' })).to.equal(1);
  });

  it('moves the command counters and the latency histogram as commands flow', async () => {
    const before = await scrape(app.url);
    for (let i = 0; i < 3; i++) {
      const moved = await call(app.url, 'trainer.move', {
        action: 'start',
        directionX: 1,
        directionY: i,
        commandId: randomUUID(),
      });
      expect(moved.error).to.equal(undefined);
    }
    await call(app.url, 'trainer.move', { action: 'stop' });
    const refused = await call(app.url, 'trainer.move', { action: 'stop' });
    expect(refused.error?.code).to.equal(-32010);
    const after = await scrape(app.url);
    expect(handled(after, 'ok') - handled(before, 'ok')).to.equal(4);
    expect(handled(after, 'rejected') - handled(before, 'rejected')).to.equal(1);
    const timed = (e: Exposition) =>
      sampleValue(e, 'streamcast_command_handling_seconds_count', { type: 'MoveTrainer' }) ?? 0;
    expect(timed(after) - timed(before)).to.equal(5);
    const rpc = (e: Exposition) =>
      sampleValue(e, 'streamcast_http_requests_total', {
        route: '/rpc',
        method: 'POST',
        status: '200',
      }) ?? 0;
    expect(rpc(after) - rpc(before)).to.equal(5);
    expect(sampleValue(after, 'streamcast_command_group_lag')).to.equal(0);
  });

  it('logs requests with their correlation id and never a token', async () => {
    const secret = `tok-${randomBytes(8).toString('hex')}`;
    await call(app.url, 'rpc.discover', {}, {});
    await fetch(`${app.url}/rpc?access_token=${secret}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-correlation-id': 'trace-me-1',
        authorization: `Bearer ${secret}`,
        cookie: `sc_token=${secret}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }),
    });
    const line = await app.waitForLine(
      /"correlationId":"trace-me-1".*"message":"request"|"message":"request".*"correlationId":"trace-me-1"/,
    );
    expect(JSON.parse(line)).to.include({
      level: 'http',
      method: 'POST',
      url: '/rpc?access_token=[redacted]',
      component: 'http',
    });
    expect(app.output()).not.to.include(secret);
  });
});
