import { expect } from 'chai';
import type { Redis } from 'ioredis';
import {
  type CommandEnvelope,
  CommandRuntime,
  catalogueHandlers,
  catchUp,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  keysFor,
  loadEntity,
  MemorySecretStore,
  moveTrainer,
  RedisEventStore,
  RedisSnapshotStore,
  type SnapshotStats,
  snapshotOf,
  type TrainerState,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

const EVERY = 100;
const SCHEMA = 'trainer/1';

let clock = Date.parse('2026-01-01T00:00:00.000Z');
const move = (trainerId: string, i: number): CommandEnvelope => {
  clock += 1000;
  const id = crypto.randomUUID();
  return {
    id,
    type: 'MoveTrainer',
    data: { trainerId, action: i % 2 === 0 ? 'start' : 'stop', direction: { x: 0.6, y: 0.8 } },
    metadata: {
      commandId: id,
      userId: trainerId,
      correlationId: id,
      timestamp: new Date(clock).toISOString(),
    },
  };
};

describeWithRedis('snapshots in the decider runtime (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let store: RedisEventStore;
  let snapshots: RedisSnapshotStore;
  const fold = {
    evolve: moveTrainer.decider({ trainerSpeed: 5, deployMaxQueued: 1 }).evolve,
    decode: moveTrainer.decode,
  };
  const initial = () => ({
    state: moveTrainer.decider({ trainerSpeed: 5, deployMaxQueued: 1 }).initialState(),
    version: 0,
  });
  const newStats = (): SnapshotStats => ({ loaded: 0, rebuilt: 0, saved: 0 });

  /** One instance's MoveTrainer handling with snapshots every EVERY events; its counts. */
  const instance = () => {
    const stats = newStats();
    const distrusted: string[] = [];
    const handler = catalogueHandlers([moveTrainer], {
      store,
      ports: commandPorts(store, new MemorySecretStore()),
      settings: { trainerSpeed: 5, deployMaxQueued: 100 },
      snapshots: {
        store: snapshots,
        every: EVERY,
        stats,
        distrusted: (_, why) => distrusted.push(why),
      },
    }).MoveTrainer!;
    const runtime = new CommandRuntime(store);
    const handle = async (c: CommandEnvelope) => {
      const outcome = await runtime.handle(handler, c);
      expect(outcome.kind, JSON.stringify(outcome)).to.equal('appended');
    };
    return { handle, stats, distrusted };
  };
  const folded = async (streamId: string) => catchUp(store, fold, streamId, initial());
  /** The state folded from the stream's first `version` events. */
  const foldedUpTo = async (streamId: string, version: number) => {
    const page = await store.readStream(streamId, { limit: version });
    let { state } = initial();
    for (const stored of page.events) state = fold.evolve(state, fold.decode(stored)!);
    return state;
  };

  beforeEach(() => {
    redis = testClient();
    prefix = uniquePrefix('snap');
    const keys = keysFor(prefix);
    store = new RedisEventStore(redis, keys, { ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
    snapshots = new RedisSnapshotStore(redis, () => keys);
  });
  afterEach(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it('writes a snapshot every SNAPSHOT_EVERY events, and a new instance loads from it plus the tail', async () => {
    const a = instance();
    for (let i = 0; i < 250; i++) await a.handle(move('ash', i));
    expect(a.stats.saved).to.equal(2); // at versions 100 and 200
    expect(await snapshots.newestSnapshotVersion('trainer-ash')).to.equal(200);

    const b = instance(); // an empty cache: loads from the snapshot
    await b.handle(move('ash', 250));
    expect(b.stats).to.deep.equal({ loaded: 1, rebuilt: 0, saved: 0 });
    const entity = await folded('trainer-ash');
    expect(entity.version).to.equal(251);
    const fromSnapshot = await loadEntity(store, fold, 'trainer-ash', initial(), {
      store: snapshots,
      every: EVERY,
      schema: SCHEMA,
      stats: newStats(),
    });
    expect(fromSnapshot).to.deep.equal({ entity, snapshotAt: 200 });
  });

  for (const [what, spoil] of [
    [
      'a snapshot corrupted by hand (its state changed, checksum kept)',
      (key: string) => redis.hset(key, 'd', JSON.stringify({ exists: true, x: 999, y: 999 })),
    ],
    ['a snapshot of another schema', (key: string) => redis.hset(key, 's', 'trainer/0')],
    [
      'a snapshot beyond the stream (sound, but of a version the stream does not hold)',
      async (key: string) => {
        const fake = snapshotOf(SCHEMA, 500, { exists: true, x: 1, y: 1 } as Partial<TrainerState>);
        await redis.hset(key, { v: fake.version, s: fake.schema, c: fake.checksum, d: fake.state });
      },
    ],
  ] as const) {
    it(`detects ${what} and rebuilds it from the events`, async () => {
      const a = instance();
      for (let i = 0; i < 120; i++) await a.handle(move('misty', i));
      expect(await snapshots.newestSnapshotVersion('trainer-misty')).to.equal(100);
      await spoil(keysFor(prefix).snapshot('trainer-misty'));

      const b = instance();
      await b.handle(move('misty', 120));
      expect(b.stats).to.deep.equal({ loaded: 0, rebuilt: 1, saved: 1 });
      expect(b.distrusted).to.have.length(1);
      // decided on the state folded from the events, and the snapshot rewritten sound
      const entity = await folded('trainer-misty');
      expect(entity.version).to.equal(121);
      const rewritten = await snapshots.load('trainer-misty');
      expect(rewritten?.version).to.equal(120);
      expect(await snapshots.newestSnapshotVersion('trainer-misty')).to.equal(120);
      expect(JSON.parse(rewritten!.state)).to.deep.equal(await foldedUpTo('trainer-misty', 120));
      const c = instance();
      await c.handle(move('misty', 121));
      expect(c.stats).to.deep.equal({ loaded: 1, rebuilt: 0, saved: 0 });
    });
  }

  it('newestSnapshotVersion is 0 without a snapshot and for a corrupt one', async () => {
    expect(await snapshots.newestSnapshotVersion('trainer-none')).to.equal(0);
    const key = keysFor(prefix).snapshot('trainer-bad');
    const good = snapshotOf(SCHEMA, 7, { exists: true });
    await redis.hset(key, { v: 8, s: good.schema, c: good.checksum, d: good.state });
    expect(await snapshots.newestSnapshotVersion('trainer-bad')).to.equal(0);
  });
});
