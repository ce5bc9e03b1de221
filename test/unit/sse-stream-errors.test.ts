import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { sseRoutes } from '../../src/http/sse-routes.js';
import {
  Admission,
  MemorySessionDirectory,
  makeCaller,
  Realtime,
  StreamFeed,
  silentLogger,
} from '../../src/index.js';
import { memoryHub } from '../support/memory-hub.js';

describe('GET /streams/{id}/events while the store fails (Redis away)', () => {
  let close = async () => {};
  afterEach(() => close());

  it('tells the client to retry (200, jittered retry:, closed) instead of a 500; refusals stay 4xx', async () => {
    const { store, hub } = memoryHub();
    const admission = new Admission({ maxConnections: 10, maxPerUser: 10 });
    const bounds = { maxBufferedBytes: 1 << 20, stallTimeoutMs: 30_000 };
    const realtime = new Realtime({
      hub,
      admission,
      bounds,
      retryMs: 1000,
      logger: silentLogger,
      serverId: 'test',
      directory: new MemorySessionDirectory({ maxSessionsPerUser: 64 }),
      limits: { maxFilters: 16, maxFilterValues: 32 },
      maxSessionsPerUser: 64,
      presenceTtlMs: 30_000,
    });
    const feed = new StreamFeed({
      store,
      admission,
      bounds,
      heartbeatMs: 60_000,
      retryMs: 1000,
      logger: silentLogger,
    });
    const app = express();
    app.use(
      sseRoutes({
        realtime,
        feed,
        authenticate: (_req, res, next) => {
          res.locals.caller = makeCaller('ash', [], []);
          next();
        },
        retryMs: 1000,
        logger: silentLogger,
      }),
    );
    const server: Server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const aborts: AbortController[] = [];
    close = async () => {
      for (const a of aborts) a.abort();
      await feed.close();
      server.closeAllConnections();
      server.close();
      await store.close();
    };
    const open = async (streamId: string) => {
      const abort = new AbortController();
      aborts.push(abort);
      const res = await fetch(`${base}/streams/${streamId}/events`, { signal: abort.signal });
      const { value } = await res.body!.getReader().read();
      return { status: res.status, text: new TextDecoder().decode(value) };
    };

    await store.append('trainer-ash', [{ type: 'Moved', data: { x: 1 } }]);
    const head = store.head.bind(store);
    let away = true;
    store.head = () => (away ? Promise.reject(new Error('Redis away')) : head());
    const failed = await open('trainer-ash');
    expect(failed.status).to.equal(200);
    expect(Number(/^retry: (\d+)\n\n$/.exec(failed.text)?.[1])).to.be.within(1000, 3000);
    expect((await open('trainer-misty')).status, 'a refusal stays a 403').to.equal(403);
    away = false; // Redis is back: the same instance serves the stream
    const served = await open('trainer-ash');
    expect(served.status).to.equal(200);
    expect(served.text).to.match(/^retry: 1000\n\n/);
  });
});
