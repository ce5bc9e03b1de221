import { expect } from 'chai';
import type { RedisClient } from '../../src/events/redis-connection.js';
import type { NotificationRecord } from '../../src/index.js';
import { formatSseId, parseSseIdParts } from '../../src/sse/sse-id.js';
import { type HubInstance, startHubInstance, streamOf } from '../support/partitioned-hub.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { type Frame, SseClient } from '../support/sse.js';
import { describeOnTopologies } from '../support/topologies.js';

const note = (p: number, n: number): NotificationRecord => ({
  method: 'message.chat',
  params: { p, n },
  target: 'user',
  targetIds: ['ash'],
});

/** The partition and number a frame's notification was written with. */
const written = (f: Frame) => f.params as { p: number; n: number };

/**
 * DESIGN.md G5 with partitions (§8): every partition's notifications tailed by every instance,
 * ids that are the delivered vector, resume of every partition from its own position, and
 * `stream.reset` when one partition lost what a resume needs.
 */
describeOnTopologies('realtime over partitions: the delivered vector', function (topology) {
  this.timeout(60_000);
  let redis: RedisClient;
  let prefix: string;
  const instances: HubInstance[] = [];
  const clients: SseClient[] = [];

  const start = async (name: string) => {
    const instance = await startHubInstance(redis, prefix, topology().partitions, name);
    instances.push(instance);
    return instance;
  };
  const client = (at: HubInstance, query: Record<string, string> = {}) => {
    const c = new SseClient(at.base, { userId: 'ash', ...query });
    clients.push(c);
    return c;
  };
  const opened = (c: SseClient) =>
    c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened');
  /** Writes `rounds` notifications to every partition through `via`, round after round. */
  const writeRounds = async (via: HubInstance, from: number, rounds: number) => {
    for (let n = from; n < from + rounds; n++) {
      await Promise.all(
        via.partitioning.keys.map((_, p) =>
          via.append(streamOf(via.partitioning, p), [note(p, n)]),
        ),
      );
    }
  };

  beforeEach(() => {
    redis = topology().client();
    prefix = uniquePrefix('rtp');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const i of instances.splice(0)) await i.kill().catch(() => {});
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it('delivers every partition’s notifications once, in each partition’s order, each frame’s id moving its partition to the entry', async () => {
    const a = await start('a');
    const b = await start('b');
    const onA = client(a);
    const onB = client(b);
    await Promise.all([opened(onA), opened(onB)]);
    const partitions = topology().partitions;
    const rounds = 30;
    await writeRounds(a, 0, rounds); // A by its fast path, B by its tails
    const total = partitions * rounds;
    for (const c of [onA, onB]) {
      await c.until((x) => x.of('message.chat').length >= total, 20_000, 'every notification');
      const frames = c.of('message.chat');
      expect(frames).to.have.length(total);
      for (let p = 0; p < partitions; p++) {
        const mine = frames.filter((f) => written(f).p === p);
        expect(
          mine.map((f) => written(f).n),
          `partition ${p} in order, once`,
        ).to.deep.equal(Array.from({ length: rounds }, (_, n) => n));
      }
      const entries = await Promise.all(
        a.partitioning.keys.map(async (keys) =>
          (await redis.xrange(keys.notify, '-', '+')).map(([id]) => id),
        ),
      );
      for (const f of frames) {
        const { p, n } = written(f);
        const vector = parseSseIdParts(f.id)!;
        expect(vector.positions, 'a position per partition').to.have.length(partitions);
        expect(vector.positions[p], 'the frame’s own partition is at its entry').to.equal(
          entries[p]![n],
        );
      }
    }
    const longest = Math.max(...onA.frames.map((f) => f.id.length));
    process.stdout.write(
      `      ${partitions} partitions × ${rounds}: ${total} of ${total} on each instance, in partition order; longest id ${longest} bytes\n`,
    );
  });

  it('resumes every partition from its own position on another instance after the first is killed', async () => {
    const a = await start('a');
    const b = await start('b');
    const first = client(a);
    await opened(first);
    await writeRounds(b, 0, 5);
    const partitions = topology().partitions;
    await first.until((x) => x.of('message.chat').length >= 5 * partitions, 20_000, 'the first');
    await a.kill();
    const lastId = first.lastId()!;
    await writeRounds(b, 5, 7); // missed by the client, in every partition
    const second = client(b, { lastEventId: lastId });
    await second.until((x) => x.of('message.chat').length >= 7 * partitions, 20_000, 'the rest');
    await writeRounds(b, 12, 2); // live after the replay
    await second.until((x) => x.of('message.chat').length >= 9 * partitions, 20_000, 'live');
    await new Promise((resolve) => setTimeout(resolve, 300)); // anything extra would arrive now
    expect(second.of('session.opened')[0]!.params.resumedFrom).to.equal(lastId);
    expect(second.of('stream.reset')).to.deep.equal([]);
    const got = [...first.of('message.chat'), ...second.of('message.chat')];
    for (let p = 0; p < partitions; p++) {
      expect(
        got.filter((f) => written(f).p === p).map((f) => written(f).n),
        `partition ${p}: every notification once, in order`,
      ).to.deep.equal(Array.from({ length: 14 }, (_, n) => n));
    }
    // a vector behind in one partition only: that partition's missed ones alone are replayed
    const lagging = partitions - 1;
    const now = parseSseIdParts(second.lastId())!;
    const tenth = (
      await redis.xrange(b.partitioning.keys[lagging]!.notify, '-', '+', 'COUNT', 10)
    ).at(-1)!;
    const behind = now.positions.map((at, p) => (p === lagging ? tenth![0] : at));
    const third = client(b, { lastEventId: formatSseId(now.tag, behind) });
    await third.until((x) => x.of('message.chat').length >= 4, 20_000, 'the lagging partition');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(third.of('message.chat').map(written)).to.deep.equal(
      [10, 11, 12, 13].map((n) => ({ p: lagging, n })),
    );
    process.stdout.write(
      `      ${first.of('message.chat').length} on A before it was killed, ${7 * partitions} missed, all replayed on B, then ${2 * partitions} live; no reset; a vector behind in partition ${lagging} alone got its 4\n`,
    );
  });

  it('resets a resume when one partition lost what it needs; the other partitions do not hide it', async () => {
    const a = await start('a');
    const live = client(a);
    await opened(live);
    const partitions = topology().partitions;
    await writeRounds(a, 0, 3);
    await live.until((x) => x.of('message.chat').length >= 3 * partitions, 20_000, 'the first');
    const before = live.lastId()!;
    const victim = partitions - 1;
    const keys = a.partitioning.keys[victim]!;

    // trimmed past the resume point in one partition: retention
    await writeRounds(a, 3, 2);
    await redis.xtrim(keys.notify, 'MAXLEN', 1);
    const stale = client(a, { lastEventId: before });
    await stale.until((x) => x.of('stream.reset').length > 0, 10_000, 'stream.reset');
    expect(stale.frames.map((f) => f.event).slice(0, 2)).to.deep.equal([
      'session.opened',
      'stream.reset',
    ]);
    expect(stale.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'retention' });

    // one partition's epoch gone (as after a failover that lost it): every session is reset
    const beforeLoss = live.lastId()!;
    await redis.del(keys.notifyEpoch);
    await live.until((x) => x.of('stream.reset').length > 0, 10_000, 'a live stream.reset');
    expect(live.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'epoch' });
    const resetId = parseSseIdParts(live.of('stream.reset')[0]!.id)!;
    expect(resetId.tag, 'the reset carries the new epochs').to.not.equal(
      parseSseIdParts(beforeLoss)!.tag,
    );
    const old = client(a, { lastEventId: beforeLoss });
    await old.until((x) => x.of('stream.reset').length > 0, 10_000, 'stream.reset');
    expect(old.of('stream.reset')[0]!.params).to.deep.equal({ reason: 'epoch' });
    // and after the reset, delivery goes on in every partition
    const count = live.of('message.chat').length;
    await writeRounds(a, 5, 1);
    await live.until(
      (x) => x.of('message.chat').length >= count + partitions,
      10_000,
      'delivery after the reset',
    );
    process.stdout.write(
      `      partition ${victim} of ${partitions}: trimmed → retention reset; its epoch key deleted → 1 live epoch reset, the old id refused with epoch\n`,
    );
  });
});
