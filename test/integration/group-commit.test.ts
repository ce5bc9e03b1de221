/**
 * Group commit (DESIGN.md G1, G3): a batch of commands decided together and committed by one script
 * call, on a real Redis. Each command gets its own answer — a success, a duplicate, a client's
 * version conflict, a domain error, a writer conflict decided again — and none of them stops the
 * others; commands for one stream are decided in order, each on the state the previous produced.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import {
  type CommandEnvelope,
  type CommandHandler,
  CommandRuntime,
  ConcurrencyError,
  catalogueHandlers,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  DomainRuleError,
  errorOfOutcome,
  keysFor,
  MemorySecretStore,
  moveTrainer,
  type Outcome,
  RedisEventStore,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

let clock = Date.parse('2026-01-01T00:00:00.000Z');
function envelope(type: string, data: CommandEnvelope['data'], id = crypto.randomUUID()) {
  clock += 1000;
  return {
    id,
    type,
    data,
    metadata: {
      commandId: id,
      userId: 'ash',
      correlationId: id,
      timestamp: new Date(clock).toISOString(),
    },
  } satisfies CommandEnvelope;
}
const move = (trainerId: string, action: 'start' | 'stop', expectedVersion?: number) =>
  envelope('MoveTrainer', {
    trainerId,
    action,
    direction: { x: 1, y: 0 },
    ...(expectedVersion !== undefined ? { expectedVersion } : {}),
  });

describeWithRedis('group commit: one batch, an answer per command', () => {
  let redis: Redis;
  let prefix: string;
  let store: RedisEventStore;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('group');
    store = new RedisEventStore(redis, keysFor(prefix), {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'test',
    });
  });
  afterEach(() => clearPrefix(redis, prefix));

  /** MoveTrainer from the catalogue, and `Racy`: another writer appends while it decides. */
  function handlers(): Record<string, CommandHandler> {
    const catalogue = catalogueHandlers([moveTrainer], {
      store,
      ports: commandPorts(store, new MemorySecretStore()),
      settings: { trainerSpeed: 5, deployMaxQueued: 100 },
    });
    let racedOnce = false;
    const racy: CommandHandler = async () => {
      const version = (await store.readStream('racy-1', { limit: 1000 })).events.length;
      if (!racedOnce) {
        racedOnce = true; // the other writer lands between this decision and its commit
        await store.append('racy-1', [{ type: 'Other', data: {} }]);
      }
      return {
        kind: 'append',
        streamId: 'racy-1',
        expectedVersion: version,
        expectedByClient: false,
        events: [{ type: 'Raced', data: { on: version } }],
        notifications: [],
        result: { on: version },
      };
    };
    return { ...catalogue, Racy: racy };
  }

  const commandsOfStream = async (streamId: string) =>
    (await redis.xrange(keysFor(prefix).stream(streamId), '-', '+')).map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return { type: f.type, commandId: JSON.parse(f.meta!).commandId as string };
    });

  it('answers a conflict, a duplicate and a domain error each on its own while the others commit', async () => {
    const runtime = new CommandRuntime(store);
    const byType = handlers();
    const handlerOf = (c: CommandEnvelope) => byType[c.type];
    const earlier = move('gary', 'start');
    const [first] = runtime.handleBatch(handlerOf, [{ command: earlier }]);
    expect(await first).to.have.property('duplicate', false);
    const before = await redis.xlen(keysFor(prefix).all);

    const batch = [
      move('ash', 'start'), // ok
      move('ash', 'stop'), // same stream, decided on the state the start produced
      move('misty', 'start', 7), // the client's expected version does not match: answered
      { ...earlier }, // handled before: its recorded outcome, nothing written
      move('brock', 'stop'), // not moving: a domain error, answered
      envelope('Racy', {}), // another writer got in first: decided again, then committed
    ];
    const results = await Promise.all(
      runtime.handleBatch(
        handlerOf,
        batch.map((command) => ({ command })),
      ),
    );
    const outcomes = results.map((r) => {
      if ('error' in r) throw r.error;
      return r.outcome;
    });
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds).to.deep.equal([
      'appended',
      'appended',
      'rejected',
      'appended',
      'rejected',
      'appended',
    ]);
    const appended = (o: Outcome) => (o.kind === 'appended' ? o : expect.fail(o.kind));
    expect([appended(outcomes[0]!).lastVersion, appended(outcomes[1]!).lastVersion]).to.deep.equal([
      1, 2,
    ]);
    expect(errorOfOutcome(batch[2]!.id, outcomes[2]!)).to.be.instanceOf(ConcurrencyError);
    expect(results[3]).to.have.property('duplicate', true);
    expect(errorOfOutcome(batch[4]!.id, outcomes[4]!))
      .to.be.instanceOf(DomainRuleError)
      .with.property('rule', 'trainer-not-moving');
    expect(appended(outcomes[5]!).result).to.deep.equal({ on: 1 });

    // what was written: exactly the successes, each once, the two of one stream in order
    expect(await commandsOfStream('trainer-ash')).to.deep.equal([
      { type: 'TrainerMoved', commandId: batch[0]!.id },
      { type: 'TrainerMoved', commandId: batch[1]!.id },
    ]);
    expect(await redis.exists(keysFor(prefix).stream('trainer-misty'))).to.equal(0);
    expect(await redis.exists(keysFor(prefix).stream('trainer-brock'))).to.equal(0);
    expect(await redis.xlen(keysFor(prefix).stream('trainer-gary'))).to.equal(1);
    expect((await commandsOfStream('racy-1')).map((e) => e.type)).to.deep.equal(['Other', 'Raced']);
    expect(await redis.xlen(keysFor(prefix).all)).to.equal(before + 4); // 2 ash, Other, Raced
  });
});
