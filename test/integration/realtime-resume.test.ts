import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { messageStreamId } from '../../src/domain/message/message.js';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { formatSseId, parseSseIdParts } from '../../src/sse/sse-id.js';
import { startMoves } from '../support/moves.js';
import { readyStatus } from '../support/readiness.js';
import { adminMessage, notifyIdsByPartition } from '../support/realtime.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { SseClient } from '../support/sse.js';
import { describeOnTopologies } from '../support/topologies.js';

/**
 * DESIGN.md G5 resume rules and G7 bounded memory, on each topology under a prefix of the test's
 * own (its keys are deleted to simulate Redis losing its data).
 */
describeOnTopologies('realtime resume, loss detection and slow readers', function (topology) {
  this.timeout(180_000);
  let redis: RedisClient;
  let prefix: string;
  let app: AppProcess;
  const clients: SseClient[] = [];
  const secret = randomBytes(32).toString('base64');

  const startInstance = async (env: Record<string, string>) => {
    app = await startApp({
      ...topology().env(),
      KEY_PREFIX: prefix,
      SECRET_KEY: secret,
      SSE_HEARTBEAT_MS: '200',
      LOG_LEVEL: 'info',
      ...env,
    });
    expect(await readyStatus(app.url)).to.equal(200);
  };
  const client = (query: Record<string, string>) => {
    const c = new SseClient(app.url, query);
    clients.push(c);
    return c;
  };
  const opened = (c: SseClient) =>
    c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened');

  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('resume');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await app?.stop();
    await clearPrefix(redis, prefix);
  });
  /** Entries kept in every partition's notifications stream. */
  const kept = async () => {
    const { keys } = partitioningFor(prefix, topology().partitions);
    return (await Promise.all(keys.map((k) => redis.xlen(k.notify)))).reduce((a, b) => a + b, 0);
  };

  it('resets a resume older than the retention, or from before Redis lost its data; a quiet session resumes without a reset', async () => {
    await startInstance({ NOTIFY_RETENTION: '50' });
    const quiet = client({ userId: 'quiet', topics: 'nothing.here' });
    const early = client({ userId: 'early' });
    await Promise.all([opened(quiet), opened(early)]);
    await startMoves({ urls: () => [app.url], trainers: 5, inFlight: 8, limit: 20 }).done;
    await early.until((x) => x.of('position.update').length >= 1, 10_000, 'a first update');
    const earlyId = early.of('position.update')[0]!.id;
    early.close();
    await startMoves({ urls: () => [app.url], trainers: 5, inFlight: 8, limit: 600 }).done;
    const pingsBefore = quiet.of('ping').length;
    await quiet.until((x) => x.of('ping').length > pingsBefore + 1, 10_000, 'a fresh ping');
    quiet.close();

    const stale = client({ userId: 'early', lastEventId: earlyId });
    await stale.until((x) => x.of('stream.reset').length > 0, 10_000, 'stream.reset');
    expect(stale.frames.map((f) => f.event).slice(0, 2)).to.deep.equal([
      'session.opened',
      'stream.reset',
    ]);
    expect(stale.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'retention' });
    const resetAt = parseSseIdParts(stale.of('stream.reset')[0]!.id);
    expect(resetAt?.positions, 'the reset carries the current position').to.have.length(
      topology().partitions,
    );

    const quietId = quiet.lastId()!;
    expect(await kept(), 'the streams were trimmed').to.be.lessThan(620);
    const resumed = client({ userId: 'quiet', topics: 'nothing.here', lastEventId: quietId });
    await resumed.until((x) => x.of('ping').length > 0, 10_000, 'a ping after resuming');
    expect(resumed.of('stream.reset'), 'a quiet session kept its place by its pings').to.deep.equal(
      [],
    );
    expect(resumed.of('session.opened')[0]!.params.resumedFrom).to.equal(quietId);

    await clearPrefix(redis, prefix); // Redis lost everything, the epoch keys included
    await resumed.until((x) => x.of('stream.reset').length > 0, 15_000, 'a live stream.reset');
    expect(resumed.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'epoch' });
    const lost = client({ userId: 'quiet', lastEventId: quietId });
    await lost.until((x) => x.of('stream.reset').length > 0, 10_000, 'stream.reset');
    expect(lost.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'epoch' });
    expect(app.output()).to.match(/notifications stream lost data/);
  });

  it('gives a new session its resume point at once: one that drops before any notification or heartbeat resumes missing nothing', async () => {
    await startInstance({ NOTIFY_RETENTION: '100000', SSE_HEARTBEAT_MS: '600000' });
    const fresh = client({ userId: 'fresh' });
    await fresh.until((x) => x.of('ping').length > 0, 10_000, 'the opening ping');
    expect(fresh.frames.map((f) => f.event)).to.deep.equal(['session.opened', 'ping']);
    const openedAt = fresh.lastId()!;
    fresh.close();
    const load = startMoves({ urls: () => [app.url], trainers: 5, inFlight: 8, limit: 40 });
    await load.done;
    const resumed = client({ userId: 'fresh', lastEventId: openedAt });
    await resumed.until(
      (x) => x.of('position.update').length >= load.answers.length,
      15_000,
      'every update made while away',
    );
    process.stdout.write(
      `      ${load.answers.length} moves while away; resumed from the opening id, got ${resumed.of('position.update').length}, resets ${resumed.of('stream.reset').length}\n`,
    );
    expect(resumed.of('stream.reset')).to.deep.equal([]);
    expect(resumed.of('session.opened')[0]!.params.resumedFrom).to.equal(openedAt);
    const versions = resumed
      .of('position.update')
      .map((f) => `${f.params.trainerId}@${f.params.version}`);
    expect(new Set(versions).size, 'none twice').to.equal(load.answers.length);
  });

  it('cuts off a reader that stops reading before its buffer passes the bound; it then resumes with nothing lost', async () => {
    await startInstance({ NOTIFY_RETENTION: '100000' });
    const big = { blob: 'x'.repeat(15_000) };
    const paused = await pausedReader(app.url, 'slow');
    // every message is appended to the admin's stream: one partition, whose entry each id names
    const partition = partitioningFor(prefix, topology().partitions).of(messageStreamId('oak'));
    const entryOf = (id: string) => parseSseIdParts(id)!.positions[partition]!;
    const watcher = client({ userId: 'slow' });
    await opened(watcher);
    const total = 800; // 12 MB addressed to the slow reader
    for (let i = 0; i < total; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          adminMessage(app.url, {
            targetType: 'user',
            targetIds: ['slow'],
            method: 'message.big',
            params: { ...big, n: i + j },
          }),
        ),
      );
    }
    await watcher.until((x) => x.of('message.big').length >= total, 60_000, 'every big message');

    const closedLine = await app.waitForLine(/closed a slow SSE reader/, 10_000);
    const { bufferedBytes } = JSON.parse(closedLine) as { bufferedBytes: number };
    // cut off at the first frame past the bound: never more than the bound plus one frame
    expect(bufferedBytes).to.be.within(1_048_576, 1_048_576 + 16_384);
    paused.stop(); // a reader that is not reading sees the end only once it reads again
    // it resumes from the last id it had read
    const resumed = client({ userId: 'slow', lastEventId: paused.lastId() });
    await resumed.until(
      (x) => x.frames.filter((f) => f.event === 'message.big').length + paused.count() >= total,
      60_000,
      'the rest',
    );
    const ids = [...paused.ids(), ...resumed.of('message.big').map((f) => f.id)].map(entryOf);
    const written = await notifyIdsByPartition(redis, prefix, topology().partitions);
    expect(ids).to.deep.equal(written[partition]);
    expect(resumed.of('stream.reset')).to.deep.equal([]);
    process.stdout.write(
      `      ${total} × 15 KB: the paused reader was cut off after ${paused.count()}, resumed and got the other ${total - paused.count()}; a reader catching up on the same backlog at full speed was never cut off\n`,
    );
    // catching up on the whole backlog at full speed is not slowness
    const catchUp = client({ userId: 'slow', lastEventId: fromTheStart(paused.lastId()) });
    await catchUp.until((x) => x.of('message.big').length >= total, 60_000, 'the whole backlog');
    expect(catchUp.errors, 'the fast reader was never cut off').to.equal(0);
    expect(app.output().match(/closed a slow SSE reader/g)).to.have.length(1);
  });
});

/**
 * A raw SSE reader that reads the first frames, then stops reading (the socket's receive buffer
 * fills and the server's send buffer grows), until the server cuts it off.
 */
function pausedReader(base: string, userId: string) {
  return new Promise<{
    stop(): void;
    count(): number;
    /** The ids of the `message.big` frames read. */
    ids(): string[];
    lastId(): string;
  }>((resolve, reject) => {
    const ids: string[] = [];
    let lastId = '';
    let text = '';
    const req = request(`${base}/events?userId=${userId}`, (res) => {
      let paused = false;
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const frames = text.split('\n\n');
        text = frames.pop() ?? '';
        for (const f of frames) {
          const id = /^id: (\S+)$/m.exec(f)?.[1];
          if (id && /event: message\.big/.test(f)) ids.push(id);
          if (id) lastId = id;
        }
        if (!paused && ids.length >= 5) {
          paused = true;
          res.pause(); // stop reading for good
        }
      });
      resolve({
        stop: () => req.destroy(),
        count: () => ids.length,
        ids: () => [...ids],
        lastId: () => ids.at(-1) ?? lastId,
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** An id of the same epochs as `id`, at the start of every partition. */
function fromTheStart(id: string): string {
  const { tag, positions } = parseSseIdParts(id)!;
  return formatSseId(
    tag,
    positions.map(() => '0-0'),
  );
}
