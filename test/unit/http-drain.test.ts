import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { HttpDrain } from '../../src/http/drain.js';

interface Fixture {
  readonly server: Server;
  readonly drain: HttpDrain;
  readonly port: number;
  /** Lets the pending /slow requests answer. */
  release(): void;
}

async function start(): Promise<Fixture> {
  const drain = new HttpDrain();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const app = express();
  app.use(drain.middleware);
  app.get('/slow', async (_req, res) => {
    await gate;
    res.send('slow done');
  });
  app.get('/fast', (_req, res) => void res.send('fast'));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, drain, port: (server.address() as AddressInfo).port, release };
}

/** GET over a keep-alive agent: status, Connection header and body. */
function get(port: number, path: string, agent: http.Agent) {
  return new Promise<{ status: number; connection: string | undefined; body: string }>(
    (resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = '';
          res.on('data', (c) => {
            body += c;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
          );
        })
        .on('error', reject);
    },
  );
}

describe('HTTP drain on shutdown (src/http/drain.ts)', () => {
  let fixture: Fixture | undefined;
  afterEach(() => {
    fixture?.server.closeAllConnections();
    fixture?.server.close();
    fixture = undefined;
  });

  it('answers requests in flight with Connection: close and refuses new connections', async () => {
    fixture = await start();
    const agent = new http.Agent({ keepAlive: true });
    const slow = get(fixture.port, '/slow', agent);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = fixture.drain.close(fixture.server, Date.now() + 5000);
    expect(fixture.drain.isDraining).to.equal(true);
    const refused = await get(fixture.port, '/fast', new http.Agent()).catch(
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
    fixture.release();
    expect(await slow).to.deep.equal({ status: 200, connection: 'close', body: 'slow done' });
    await closing;
    agent.destroy();
  });

  it('serves a request arriving on an idle keep-alive connection, then closes it', async () => {
    fixture = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect((await get(fixture.port, '/fast', agent)).connection).to.equal('keep-alive');
    const closing = fixture.drain.close(fixture.server, Date.now() + 5000);
    const reused = await get(fixture.port, '/fast', agent);
    expect(reused).to.deep.equal({ status: 200, connection: 'close', body: 'fast' });
    await closing;
    agent.destroy();
  });

  it('closes idle keep-alive connections after a short linger', async () => {
    fixture = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await get(fixture.port, '/fast', agent);
    const started = Date.now();
    await fixture.drain.close(fixture.server, Date.now() + 10_000);
    expect(Date.now() - started).to.be.lessThan(5000);
    agent.destroy();
  });

  it('cuts what is still open at the deadline', async () => {
    fixture = await start();
    const slow = get(fixture.port, '/slow', new http.Agent()).catch(
      (e: NodeJS.ErrnoException) => e.code,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await fixture.drain.close(fixture.server, Date.now() + 200);
    expect(await slow).to.equal('ECONNRESET');
  });
});
