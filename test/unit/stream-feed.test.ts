import { request } from 'node:http';
import { expect } from 'chai';
import {
  Admission,
  DEFAULT_STORE_SETTINGS,
  MemoryEventStore,
  StreamFeed,
  silentLogger,
} from '../../src/index.js';
import { eventually, stalledReader, unixServer } from '../support/stalled-reader.js';

const STREAM = 'trainer-feed';
const BIG = 'x'.repeat(50_000);

/** A feed on a memory store behind a unix-socket server; `/<user>/<fromVersion>` follows STREAM. */
async function feedServer(
  limits: { maxConnections: number; maxPerUser: number },
  stallTimeoutMs = 60_000,
  delayMs = 0, // before serving: the route's own awaits (auth, the store)
) {
  const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
  const admission = new Admission(limits);
  const feed = new StreamFeed({
    store,
    admission,
    heartbeatMs: 60_000,
    retryMs: 1000,
    bounds: { maxBufferedBytes: 64 * 1024, stallTimeoutMs },
    logger: silentLogger,
  });
  const served: Promise<void>[] = [];
  const errors: unknown[] = [];
  const server = await unixServer((req, res) => {
    const [, user, from] = (req.url ?? '').split('/');
    const serve = () =>
      served.push(
        feed.serve(res, user!, STREAM, Number(from)).catch((error: unknown) => {
          errors.push(error);
          res.writeHead(500).end('failed'); // what the routes' error handling would answer
        }),
      );
    if (delayMs > 0) setTimeout(serve, delayMs);
    else serve();
  });
  const append = (count: number) =>
    store.append(
      STREAM,
      Array.from({ length: count }, () => ({ type: 'Big', data: { blob: BIG } })),
    );
  return {
    store,
    admission,
    served,
    errors,
    append,
    socketPath: server.socketPath,
    open: (user: string, from = 1) => stalledReader(server.socketPath, `/${user}/${from}`),
    close: async () => {
      await feed.close();
      await server.close();
      await store.close();
    },
  };
}

type FeedServer = Awaited<ReturnType<typeof feedServer>>;

describe('stream feed limits and clean-up (GET /streams/…/events, deployments)', () => {
  let f: FeedServer | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('ends the backlog read of a client that stopped reading and went away, and frees its slot', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 });
    await f.append(200); // 10 MB of backlog: the socket fills long before
    const reader = await f.open('ash');
    expect(reader.status).to.equal(200);
    expect(f.admission.of('ash')).to.equal(1);
    await new Promise((r) => setTimeout(r, 300)); // the feed now waits for `drain`
    let done = false;
    void f.served[0]!.then(() => {
      done = true;
    });
    expect(done, 'still sending its backlog').to.equal(false);
    reader.destroy();
    expect(await eventually(() => done, 5000), 'serve() returned after the client left').to.equal(
      true,
    );
    expect(f.admission.size).to.equal(0);
  });

  it('frees the slot of a client that left before its stream was served', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 }, 60_000, 200);
    await f.append(1);
    const leaving = request({ socketPath: f.socketPath, path: '/ash/1', agent: false });
    leaving.on('error', () => {});
    leaving.end();
    await new Promise((r) => setTimeout(r, 50));
    leaving.destroy(); // gone before the feed got to it
    expect(await eventually(() => f!.served.length === 1)).to.equal(true);
    await f.served[0];
    expect(f.admission.size, 'no slot held by a stream nobody reads').to.equal(0);
  });

  it('cuts off a reader that lets live events pile up past SSE_MAX_BUFFERED_BYTES', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 });
    const reader = await f.open('ash');
    expect(reader.status).to.equal(200);
    let rounds = 0;
    while (f.admission.size > 0 && rounds < 40) {
      await f.append(5); // 250 KB a round
      rounds += 1;
    }
    expect(f.admission.size, 'cut off, its slot free again').to.equal(0);
    expect(rounds, 'a few rounds past 64 KB unsent (the socket takes some first)').to.be.below(40);
  });

  it('cuts off a reader that stalls its backlog while live events are held back', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 });
    await f.append(100);
    const reader = await f.open('ash');
    expect(reader.status).to.equal(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(f.admission.size, 'the backlog waits for the socket').to.equal(1);
    await f.append(2); // 100 KB held back: past the bound
    expect(await eventually(() => f!.admission.size === 0, 2000), 'cut off').to.equal(true);
  });

  it('cuts off a reader that takes nothing of its backlog for SSE_STALL_TIMEOUT_MS', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 }, 300);
    await f.append(100);
    const reader = await f.open('ash');
    expect(reader.status).to.equal(200);
    expect(f.admission.size).to.equal(1);
    expect(await eventually(() => f!.admission.size === 0, 5000), 'cut off').to.equal(true);
    await f.served[0]; // and the backlog read ended
  });

  it('refuses streams past SSE_MAX_CONNECTIONS and SSE_MAX_CONNECTIONS_PER_USER with a retry', async () => {
    f = await feedServer({ maxConnections: 3, maxPerUser: 2 });
    const ash = [await f.open('ash'), await f.open('ash')];
    const third = await f.open('ash');
    const misty = await f.open('misty');
    const brock = await f.open('brock');
    expect([...ash, misty].map((r) => r.status)).to.deep.equal([200, 200, 200]);
    for (const refused of [third, brock]) {
      expect(refused.status).to.equal(200); // browsers retry only a 200 event stream
      expect(refused.firstChunk).to.match(/^retry: \d+\n\n$/);
      expect(await refused.rest(), 'closed at once').to.equal('');
    }
    expect(f.admission.size).to.equal(3);
    ash[0]!.destroy();
    expect(await eventually(() => f!.admission.size === 2)).to.equal(true);
    const again = await f.open('brock');
    expect(again.firstChunk).to.match(/^retry: 1000\n\n/);
    expect(f.admission.of('brock')).to.equal(1);
  });

  it('tries a failed start of its follower again (Redis away at the first request)', async () => {
    f = await feedServer({ maxConnections: 10, maxPerUser: 10 });
    const head = f.store.head.bind(f.store);
    let failures = 1;
    f.store.head = () => (failures-- > 0 ? Promise.reject(new Error('Redis away')) : head());
    const failed = await f.open('ash');
    expect(failed.status).to.equal(500);
    await f.served[0];
    expect(f.errors.map(String)).to.deep.equal(['Error: Redis away']);
    await f.append(2);
    const reader = await f.open('ash');
    expect(reader.status).to.equal(200);
    await f.served[1]; // served its backlog: the follower started this time
    expect(failures).to.equal(-1);
    reader.destroy();
  });
});
