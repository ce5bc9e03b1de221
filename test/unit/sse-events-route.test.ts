import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { UnauthenticatedError } from '../../src/errors.js';
import { plainEvents } from '../../src/http/plain-events.js';
import {
  Admission,
  MemorySessionDirectory,
  makeCaller,
  Realtime,
  silentLogger,
} from '../../src/index.js';
import { memoryHub } from '../support/memory-hub.js';

/** `GET /events` on plain http over a memory store, as main.ts wires it, with small limits. */
async function eventsServer(
  limits: { maxConnections: number; maxPerUser: number; sessions: number },
  delayMs = 0, // before serving: what authentication and Redis may take
) {
  const { store, hub } = memoryHub();
  const directory = new MemorySessionDirectory({ maxSessionsPerUser: limits.sessions });
  const admission = new Admission(limits);
  const realtime = new Realtime({
    hub,
    directory,
    serverId: 'test',
    admission,
    bounds: { maxBufferedBytes: 1 << 20, stallTimeoutMs: 30_000 },
    limits: { maxFilters: 16, maxFilterValues: 32 },
    maxSessionsPerUser: limits.sessions,
    retryMs: 1000,
    presenceTtlMs: 30_000,
    logger: silentLogger,
  });
  await realtime.start();
  const events = plainEvents({
    realtime,
    identify: async (req) => {
      if (req.query.userId === 'down') throw new Error('Redis away'); // a failure, not a refusal
      if (req.query.userId === 'nobody') throw new UnauthenticatedError('no token');
      return makeCaller(String(req.query.userId), [], []);
    },
    cors: {},
    retryMs: 1000,
    logger: silentLogger,
  });
  let handled = 0;
  const server: Server = createServer((req, res) => {
    setTimeout(() => {
      handled += 1;
      if (!events(req, res)) res.writeHead(404).end();
    }, delayMs);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const streams: AbortController[] = [];
  /** Opens `/events`; answers its status and first chunk (the stream stays open). */
  const open = async (query: string) => {
    const abort = new AbortController();
    streams.push(abort);
    const res = await fetch(`${base}/events?${query}`, { signal: abort.signal });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    return { status: res.status, text: new TextDecoder().decode(value), abort };
  };
  return {
    directory,
    admission,
    realtime,
    base,
    handled: () => handled,
    open,
    close: async () => {
      for (const s of streams) s.abort();
      await realtime.close();
      server.closeAllConnections();
      server.close();
      await store.close();
    },
  };
}

type EventsServer = Awaited<ReturnType<typeof eventsServer>>;
const waitMs = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /events: session records after admission, sessions per user', () => {
  let s: EventsServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('keeps a client-chosen session only once admitted: a refused connection leaves no record', async () => {
    s = await eventsServer({ maxConnections: 10, maxPerUser: 2, sessions: 64 });
    const admitted = [
      await s.open('userId=ash&sessionId=a1'),
      await s.open('userId=ash&sessionId=a2'),
    ];
    expect(admitted.map((a) => a.status)).to.deep.equal([200, 200]);
    const refused = await s.open('userId=ash&sessionId=a3&topics=big.topic');
    expect(refused.status).to.equal(200);
    expect(refused.text).to.match(/^retry: \d+\n\n$/);
    expect(await s.directory.get('a1')).to.not.equal(undefined);
    expect(await s.directory.get('a3'), 'nothing written for the refused one').to.equal(undefined);
  });

  it('refuses a client-chosen session past SSE_MAX_SESSIONS_PER_USER with 400; known ones reconnect', async () => {
    s = await eventsServer({ maxConnections: 10, maxPerUser: 10, sessions: 2 });
    for (const id of ['k1', 'k2']) {
      const opened = await s.open(`userId=ash&sessionId=${id}`);
      expect(opened.status).to.equal(200);
      opened.abort.abort();
    }
    await waitMs(50);
    const third = await s.open('userId=ash&sessionId=k3');
    expect(third.status).to.equal(400);
    expect(JSON.parse(third.text).message).to.match(/SSE_MAX_SESSIONS_PER_USER/);
    expect((await s.open('userId=ash&sessionId=k1')).status, 'a known one').to.equal(200);
    expect((await s.open('userId=ash')).status, 'a generated id is not kept').to.equal(200);
    expect((await s.open('userId=misty&sessionId=k3')).status, 'another user').to.equal(200);
  });

  it('tells a client to retry on a failure (not a 5xx, which stops a browser for good); refusals stay 4xx', async () => {
    s = await eventsServer({ maxConnections: 10, maxPerUser: 10, sessions: 64 });
    const failed = await s.open('userId=down');
    expect(failed.status).to.equal(200);
    const retry = Number(/^retry: (\d+)\n\n$/.exec(failed.text)?.[1]);
    expect(retry).to.be.within(1000, 3000);
    expect((await s.open('userId=nobody')).status).to.equal(401);
  });

  it('frees the slot of a client that left before its stream was opened', async () => {
    s = await eventsServer({ maxConnections: 10, maxPerUser: 1, sessions: 64 }, 200);
    const leaving = new AbortController();
    const request = fetch(`${s.base}/events?userId=ash&sessionId=gone`, {
      signal: leaving.signal,
    }).catch(() => undefined);
    await waitMs(50);
    leaving.abort();
    await request;
    await waitMs(400); // handled, with the client long gone
    expect(s.handled()).to.equal(1);
    expect(s.admission.size, 'no slot for a stream nobody reads').to.equal(0);
    expect(s.realtime.status().sessions).to.equal(0);
  });

  it('refuses a subscription larger than the record cap with 400', async () => {
    s = await eventsServer({ maxConnections: 10, maxPerUser: 10, sessions: 64 });
    const token = 'x'.repeat(60);
    const topics = Array.from({ length: 50 }, (_, i) => `t${i}.${token}.${token}.${token}`).join(
      ',',
    );
    const big = await s.open(`userId=ash&sessionId=big&topics=${topics}`);
    expect(big.status).to.equal(400);
    expect(JSON.parse(big.text).message).to.match(/bytes of topics and filters, at most 8192/);
    expect(await s.directory.get('big')).to.equal(undefined);
  });
});
