import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { EventSource } from 'eventsource';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { subscribe } from '../../src/client/index.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { compareStreamIds } from '../../src/events/stream-ids.js';
import { parseSseIdParts } from '../../src/sse/sse-id.js';
import { startMoves } from '../support/moves.js';
import { readyStatus } from '../support/readiness.js';
import { notifyIdsByPartition, updatesByPartition } from '../support/realtime.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { SseClient } from '../support/sse.js';
import { describeOnTopologies } from '../support/topologies.js';

/** `ids` after `after` (stream ids, in order). */
const idsAfter = (ids: readonly string[], after: string) =>
  ids.filter((id) => compareStreamIds(id, after) > 0);

/**
 * DESIGN.md G5 across two instances: each notification once per matching session, in stream order
 * (per partition with several: a partition's notifications keep their order, DESIGN.md §8). With
 * STORE=eventstoredb the notifier writes them from `$all`, and the same holds.
 */
describeOnTopologies(
  'realtime delivery across instances',
  function (topology) {
    this.timeout(120_000);
    let redis: RedisClient;
    let prefix: string;
    let a: AppProcess;
    let b: AppProcess;
    const clients: { close(): void }[] = [];

    const start = (slot: string) =>
      startApp({
        ...topology().env(),
        SECRET_KEY: secret,
        KEY_PREFIX: prefix,
        SERVER_ID: `${slot}-${prefix}`,
        SSE_HEARTBEAT_MS: '500',
        SSE_RETRY_MS: '200',
        LOG_LEVEL: 'info',
      });
    const secret = randomBytes(32).toString('base64');

    before(() => {
      redis = topology().client();
    });
    after(() => redis.disconnect());
    beforeEach(async () => {
      prefix = uniquePrefix('rt');
      [a, b] = await Promise.all([start('a'), start('b')]);
      expect(await Promise.all([readyStatus(a.url), readyStatus(b.url)])).to.deep.equal([200, 200]);
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) c.close();
      await Promise.all([a?.stop(), b?.stop()]);
      await clearPrefix(redis, prefix);
    });

    const client = (app: AppProcess, query: Record<string, string>) => {
      const c = new SseClient(app.url, query);
      clients.push(c);
      return c;
    };
    const opened = (c: SseClient) =>
      c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened');

    it('delivers every notification once, in stream order, to matching sessions on both instances', async () => {
      const onA = client(a, { userId: 'watcher-a', topics: 'trainer.>' });
      const onB = client(b, { userId: 'watcher-b' });
      await Promise.all([opened(onA), opened(onB)]);
      const load = startMoves({
        urls: () => [a.url, b.url],
        trainers: 20,
        inFlight: 16,
        limit: 600,
      });
      await load.done;
      const { partitions } = topology();
      const expected = await notifyIdsByPartition(redis, prefix, partitions);
      expect(expected.flat()).to.have.length(600);
      for (const c of [onA, onB]) {
        await c.until((x) => x.of('position.update').length >= 600, 20_000, 'all updates');
        await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would arrive now
        const got = updatesByPartition(prefix, partitions, c.of('position.update'));
        expect(got, 'ids in stream order, each once').to.deep.equal(expected);
      }
      process.stdout.write(
        `      moves 600 sent to A and B alternately; each session received 600 of 600, in the order of each of ${partitions} partitions\n`,
      );
    });

    it('resumes on the other instance from the last id, missing nothing and repeating nothing', async () => {
      const first = client(a, { userId: 'r1' });
      await opened(first);
      const load = startMoves({ urls: () => [a.url, b.url], trainers: 10, inFlight: 8 });
      await first.until((x) => x.of('position.update').length >= 50, 20_000, '50 updates');
      first.close();
      const lastId = first.lastId()!;
      const last = parseSseIdParts(lastId)!.positions;
      const { partitions } = topology();
      await new Promise((resolve) => setTimeout(resolve, 700)); // notifications keep flowing meanwhile
      const missedUpTo = (await notifyIdsByPartition(redis, prefix, partitions)).map(
        (ids) => ids.at(-1) ?? '0-0',
      );
      const second = client(b, { userId: 'r1', lastEventId: lastId });
      await opened(second);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await load.stop();
      const all = await notifyIdsByPartition(redis, prefix, partitions);
      const afterLast = all.map((ids, p) => idsAfter(ids, last[p]!));
      const rest = afterLast.flat().length;
      await second.until((x) => x.of('position.update').length >= rest, 20_000, 'the rest');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const resumed = updatesByPartition(prefix, partitions, second.of('position.update'));
      const missed = afterLast.reduce(
        (n, ids, p) => n + ids.filter((id) => compareStreamIds(id, missedUpTo[p]!) <= 0).length,
        0,
      );
      process.stdout.write(
        `      received ${first.of('position.update').length} on A, missed ${missed} while away, then ${rest} on B (resumedFrom ${lastId.length} bytes, ${partitions} partitions)\n`,
      );
      expect(second.of('session.opened')[0]!.params.resumedFrom).to.equal(lastId);
      expect(second.of('stream.reset')).to.deep.equal([]);
      expect(missed, 'notifications written while the client was away').to.be.greaterThan(0);
      expect(resumed).to.deep.equal(afterLast);
      const seen = updatesByPartition(prefix, partitions, [
        ...first.of('position.update'),
        ...second.of('position.update'),
      ]);
      expect(seen).to.deep.equal(all);
    });

    it('closes sessions with a retry hint on SIGTERM; the typed client continues on the other instance without loss', async () => {
      const raw = await fetch(`${a.url}/events?userId=raw`);
      const reader = raw.body!.getReader();
      let rawText = '';
      const rawDone = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          rawText += new TextDecoder().decode(value);
        }
      })();
      const received: { id: string; params: unknown }[] = [];
      const sub = subscribe({
        urls: [a.url, b.url],
        query: { userId: 'typed' },
        retryMs: 100,
        EventSource: EventSource as never,
        onNotification: (_method, params, id) => received.push({ id, params }),
      });
      clients.push(sub);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const load = startMoves({ urls: () => [b.url], trainers: 10, inFlight: 8 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const beforeStop = received.length;
      await a.stop('SIGTERM');
      await rawDone;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await load.stop();
      const { partitions } = topology();
      const all = await notifyIdsByPartition(redis, prefix, partitions);
      const deadline = Date.now() + 15_000;
      while (received.length < all.flat().length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const retry = /retry: (\d+)\n\n$/.exec(rawText);
      process.stdout.write(
        `      ${beforeStop} notifications before SIGTERM, ${received.length} of ${all.flat().length} in all over ${sub.connections} connections; closing retry ${retry?.[1]} ms\n`,
      );
      expect(retry, 'the last frame of a closed stream is a retry hint').to.not.equal(null);
      expect(Number(retry![1])).to.be.within(200, 600);
      expect(sub.connections).to.be.greaterThan(1);
      expect(updatesByPartition(prefix, partitions, received)).to.deep.equal(all);
    });
  },
  { eventStoreDb: true },
);
