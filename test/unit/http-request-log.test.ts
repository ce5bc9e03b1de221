import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import express from 'express';
import winston from 'winston';
import { correlationIds, redactUrl, requestLog } from '../../src/http/request-log.js';
import { listen, type Running } from '../support/http.js';

/** A logger at `http` level whose JSON lines the test reads. */
function capturingLogger() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
  });
  const logger = winston.createLogger({
    level: 'http',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

function app(logger: winston.Logger) {
  const a = express();
  a.use(correlationIds, requestLog(logger));
  a.get('/healthz', (_req, res) => void res.json({ ok: true }));
  a.get('/readyz', (_req, res) => void res.status(503).json({ ready: false }));
  a.get('/boom', (_req, res) => void res.status(500).json({ error: 'x' }));
  a.post('/rpc', (_req, res) => {
    res.locals.caller = { userId: 'ash' };
    res.json({ ok: true });
  });
  return a;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('request logs (src/http/request-log.ts)', () => {
  let server: Running | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('logs each request with its correlation id and caller, never a token', async () => {
    const { logger, lines } = capturingLogger();
    server = await listen(app(logger));
    const res = await fetch(`${server.base}/rpc?access_token=s3cr3t-tok&topics=a`, {
      method: 'POST',
      headers: { 'X-Correlation-Id': 'req-42', Authorization: 'Bearer s3cr3t-bearer' },
    });
    expect(res.headers.get('x-correlation-id')).to.equal('req-42');
    await settle();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({
      level: 'http',
      method: 'POST',
      status: 200,
      correlationId: 'req-42',
      userId: 'ash',
      url: '/rpc?access_token=[redacted]&topics=a',
    });
    expect(JSON.stringify(lines)).not.to.include('s3cr3t');
  });

  it('makes up a correlation id when the client sends none or a strange one', async () => {
    const { logger, lines } = capturingLogger();
    server = await listen(app(logger));
    const res = await fetch(`${server.base}/rpc`, {
      method: 'POST',
      headers: { 'X-Correlation-Id': 'no spaces allowed' },
    });
    const id = res.headers.get('x-correlation-id');
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    await settle();
    expect(lines[0]).to.include({ correlationId: id });
  });

  it('skips successful probes, logs failed ones quietly and server errors as warnings', async () => {
    const { logger, lines } = capturingLogger();
    server = await listen(app(logger));
    await fetch(`${server.base}/healthz`);
    await fetch(`${server.base}/readyz`);
    await fetch(`${server.base}/boom`);
    await settle();
    expect(lines.map((l) => [l.url, l.status, l.level])).to.deep.equal([
      ['/readyz', 503, 'http'],
      ['/boom', 500, 'warn'],
    ]);
  });

  it('redacts every secret-looking query parameter, whatever its case or encoding', () => {
    expect(redactUrl('/events?ACCESS_TOKEN=a&sc_token=b&password=c&topics=x')).to.equal(
      '/events?ACCESS_TOKEN=[redacted]&sc_token=[redacted]&password=[redacted]&topics=x',
    );
    expect(redactUrl('/events?access%5Ftoken=abc')).to.equal('/events?access%5Ftoken=[redacted]');
    expect(redactUrl('/rpc')).to.equal('/rpc');
  });
});
