/**
 * Partition-specific cases (issue 14, DESIGN.md §8) on both topologies: positions name their
 * partition, the whole-log cursor pages every partition exactly once, and a command lives in its
 * target stream's partition (its sent marker and outcome keys).
 */
import { expect } from 'chai';
import { PartitionedCommandBus } from '../../src/commands/partitioned-command-bus.js';
import { toRpcError } from '../../src/error-codes.js';
import {
  ANY,
  CommandRuntime,
  FaultSwitch,
  type RecordedEvent,
  type RedisClient,
  RedisCommandBus,
  START,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { redisStoreFor } from '../support/redis-stores.js';
import { describeOnTopologies } from '../support/topologies.js';

describeOnTopologies('Partitions', (topology) => {
  let redis: RedisClient;
  let prefix: string;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('part');
  });
  afterEach(() => clearPrefix(redis, prefix));

  it("names each event's partition in its position and keeps its stream in that partition", async () => {
    const { store, partitioning } = redisStoreFor(redis, prefix, topology().partitions);
    const streams = Array.from({ length: 12 }, (_, i) => `trainer-p${i}`);
    for (const stream of streams) {
      const r = await store.append(stream, [{ type: 'A', data: {} }]);
      if (r.duplicate) return expect.fail('not a duplicate');
      const p = partitioning.of(stream);
      const [read] = (await store.readStream(stream)).events;
      if (partitioning.count > 1) {
        expect(r.globalPositions[0]).to.match(new RegExp(`^${p}:\\d+-\\d+$`));
      } else expect(r.globalPositions[0]).to.match(/^\d+-\d+$/);
      expect(read?.globalPosition).to.equal(r.globalPositions[0]);
      expect(await redis.exists(partitioning.keys[p]!.stream(stream))).to.equal(1);
    }
    const used = new Set(streams.map((s) => partitioning.of(s)));
    console.log(`      12 streams in ${used.size} of ${partitioning.count} partitions`);
    if (partitioning.count > 1) expect(used.size).to.be.above(1);
    await store.close();
  });

  it('pages through every partition exactly once, each in order, with the cursor', async () => {
    const { store, partitioning } = redisStoreFor(redis, prefix, topology().partitions);
    const written: string[] = [];
    for (let i = 0; i < 90; i++) {
      const r = await store.append(`trainer-q${i % 23}`, [
        { type: i % 3 ? 'A' : 'B', data: { i } },
      ]);
      if (!r.duplicate) written.push(...r.globalPositions);
    }
    const seen: RecordedEvent[] = [];
    let after = START;
    let pages = 0;
    for (;;) {
      const page = await store.readAll({ after, limit: 7 });
      seen.push(...page.events);
      pages += 1;
      after = page.nextPosition;
      if (page.isEnd) break;
    }
    console.log(`      90 events in ${pages} pages over ${partitioning.count} partitions`);
    expect(seen.map((e) => e.globalPosition).sort()).to.deep.equal([...written].sort());
    expect(new Set(seen.map((e) => e.globalPosition)).size).to.equal(90);
    const lastOf = new Map<string, string>();
    for (const e of seen) {
      const [p, id] =
        partitioning.count > 1 ? e.globalPosition.split(':') : ['0', e.globalPosition];
      const before = lastOf.get(p!);
      if (before) expect(Number(id!.split('-')[0])).to.be.at.least(Number(before.split('-')[0]));
      lastOf.set(p!, id!);
    }
    const onlyB = await store.readAll({ types: ['B'], limit: 1000 });
    expect(
      onlyB.events.map((e) => (e.data as { i: number }).i).sort((a, b) => a - b),
    ).to.deep.equal(Array.from({ length: 30 }, (_, k) => k * 3));
    const bad = await store.readAll({ after: '99~zz~' }).catch((error: unknown) => error);
    expect(toRpcError(bad).code).to.equal(-32602);
    await store.close();
  });

  it('bounds queued jobs across every partition (DEPLOY_MAX_QUEUED)', async () => {
    const { store, partitioning } = redisStoreFor(redis, prefix, topology().partitions);
    // streams of different partitions where there are several
    const streams: string[] = [];
    for (let i = 0; streams.length < 3; i++) {
      const s = `deployment-j${i}`;
      const used = streams.map((x) => partitioning.of(x));
      if (partitioning.count === 1 || !used.includes(partitioning.of(s))) streams.push(s);
    }
    const job = (id: string) => ({
      queue: 'deploy',
      group: 'runners',
      id,
      type: 'RunDeployment',
      data: {},
      maxWaiting: 2,
    });
    await store.append(streams[0]!, [{ type: 'Started', data: {} }], { enqueue: job('a') });
    await store.append(streams[1]!, [{ type: 'Started', data: {} }], { enqueue: job('b') });
    const refused = await store
      .append(streams[2]!, [{ type: 'Started', data: {} }], { enqueue: job('c') })
      .catch((error: unknown) => error);
    expect(String(refused)).to.match(/the deploy queue is full: 2 jobs wait/);
    expect((await store.readStream(streams[2]!)).events).to.have.length(0);
    const partitions = new Set(streams.map((s) => partitioning.of(s))).size;
    console.log(`      3 deployments in ${partitions} partitions: the third refused`);
    await store.close();
  });

  it("enqueues, commits and answers a command in its target stream's partition", async () => {
    const { store, partitioning } = redisStoreFor(redis, prefix, topology().partitions);
    const options = {
      serverId: 'part-a',
      timeoutMs: 5000,
      maxAttempts: 3,
      backlogMax: 100,
      concurrency: 4,
      claimIdleMs: 1000,
      handlerDeadlineMs: 10_000,
      dedupTtlS: 600,
      graceMs: 500,
      fault: FaultSwitch.from(undefined, silentLogger),
      logger: silentLogger,
    };
    const buses = partitioning.keys.map((keys) => new RedisCommandBus(redis, keys, options));
    const bus =
      partitioning.count === 1 ? buses[0]! : new PartitionedCommandBus(buses, partitioning.of);
    await bus.start();
    const runtime = new CommandRuntime(store);
    const worker = await bus.serve(
      runtime.processor({
        Do: async (c) => ({
          kind: 'append',
          streamId: c.metadata.streamId!,
          expectedVersion: ANY,
          expectedByClient: false,
          events: [{ type: 'Did', data: {} }],
          notifications: [],
          result: null,
        }),
      }),
    );
    const checked: number[] = [];
    for (const stream of ['trainer-ash', 'trainer-misty', 'trainer-brock', 'trainer-gary']) {
      const id = crypto.randomUUID();
      const sent = await bus.send({
        id,
        type: 'Do',
        data: {},
        metadata: {
          commandId: id,
          userId: 'u1',
          correlationId: id,
          timestamp: new Date().toISOString(),
          streamId: stream,
        },
      });
      expect(sent.status === 'handled' && sent.outcome.kind).to.equal('appended');
      const p = partitioning.of(stream);
      const where = await Promise.all(
        partitioning.keys.map(async (keys) => await redis.exists(keys.done(`u1:${id}`))),
      );
      // one record per command (sent, then its outcome), in its stream's partition only
      expect(where.map((n, q) => (q === p ? n === 1 : n === 0))).to.not.include(false);
      expect((await bus.status('u1', id)).status).to.equal('handled');
      checked.push(p);
    }
    console.log(`      4 commands answered in partitions ${checked.join(', ')}`);
    await worker.close();
    await bus.close();
    await store.close();
  });
});
