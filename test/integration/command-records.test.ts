import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { MemoryEventArchive } from '../../src/archive/memory-event-archive.js';
import {
  type Actor,
  CommandRuntime,
  CommandSender,
  catalogueHandlers,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  keysFor,
  landedAt,
  MemorySecretStore,
  moveTrainer,
  parseRecord,
  RedisCommandBus,
  RedisEventStore,
  resultIn,
  silentLogger,
  type Worker,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

/** The bound issue 15 sets on a remembered command id, in Redis's own accounting (MEMORY USAGE). */
const RECORD_BYTES_MAX = 120;

describe('command records: the stored forms', () => {
  it('reads sent, references (with a result, derived, or none) and whole outcomes', () => {
    expect(parseRecord('s')).to.deep.equal({ kind: 'sent' });
    expect(parseRecord('a1700000000000-3=')).to.deep.equal({
      kind: 'reference',
      position: '1700000000000-3',
      count: 1,
      derived: true,
    });
    expect(parseRecord('~a4:1700000000000-3+2|{"ok":1}')).to.deep.equal({
      kind: 'reference',
      position: '4:1700000000000-3',
      count: 2,
      derived: false,
      result: { ok: 1 },
    });
    expect(parseRecord('a1-0')).to.deep.include({ count: 1, derived: false });
    const dead = { kind: 'dead', attempts: 3, lastError: 'boom' };
    expect(parseRecord(JSON.stringify(dead))).to.deep.equal({ kind: 'outcome', outcome: dead });
  });

  it('refuses a corrupt record, naming it', () => {
    for (const bad of ['a', 'a12', 'ax-1', 'a1-0+0', 'a1-0+x']) {
      expect(() => parseRecord(bad), bad).to.throw(/command record is corrupt/);
    }
  });
});

describeWithRedis('command records on Redis (trainer moves through the bus)', () => {
  let redis: Redis;
  let prefix: string;
  let bus: RedisCommandBus;
  let worker: Worker & { close(graceMs?: number): Promise<void> };
  const ash: Actor = { userId: 'ash', groups: [], roles: [], isAdmin: false };

  const start = async (archive?: MemoryEventArchive) => {
    const keys = keysFor(prefix);
    const store = new RedisEventStore(redis, keys, {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'rec',
      ...(archive ? { tiers: { archive, partition: 0 } } : {}),
    });
    bus = new RedisCommandBus(redis, keys, {
      maxAttempts: 2,
      timeoutMs: 5000,
      serverId: 'rec',
      backlogMax: 10_000,
      concurrency: 16,
      claimIdleMs: 1000,
      handlerDeadlineMs: 30_000,
      dedupTtlS: 600,
      graceMs: 1000,
      fault: FaultSwitch.from(undefined, silentLogger),
      logger: silentLogger,
      events: store,
    });
    await bus.start();
    const handlers = catalogueHandlers([moveTrainer], {
      store,
      ports: commandPorts(store, new MemorySecretStore()),
      settings: { trainerSpeed: 5, deployMaxQueued: 100 },
    });
    worker = await bus.serve(new CommandRuntime(store).processor(handlers));
    return { store, sender: new CommandSender(bus, { timeoutMs: 5000, seal: () => '' }) };
  };
  const move = (sender: CommandSender, commandId: string, i: number) =>
    sender.send(
      moveTrainer,
      i % 2 === 0
        ? { action: 'start', directionX: 3, directionY: 4, commandId }
        : { action: 'stop', commandId },
      { actor: ash, correlationId: commandId },
    );

  beforeEach(() => {
    redis = testClient();
    prefix = uniquePrefix('rec');
  });
  afterEach(async () => {
    await worker?.close(1000);
    await bus?.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it(`keeps one key of at most ${RECORD_BYTES_MAX} bytes per command, and a repeat gets the first answer from the events`, async () => {
    const { sender } = await start();
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    const answers = [];
    for (const [i, id] of ids.entries()) answers.push(await move(sender, id, i));
    const keys = keysFor(prefix);
    const sizes = await Promise.all(
      ids.map((id) => redis.memory('USAGE', keys.done(`ash:${id}`), 'SAMPLES', 0)),
    );
    console.log(
      `      MEMORY USAGE of the 20 records: ${Math.min(...sizes.map(Number))}-${Math.max(...sizes.map(Number))} bytes`,
    );
    for (const size of sizes) expect(Number(size)).to.be.within(1, RECORD_BYTES_MAX);
    const stored = await redis.get(keys.done(`ash:${ids[0]}`));
    expect(stored).to.match(/^a\d+-\d+=$/); // a reference; the move's result derived again
    // no other key per command: only the record, the log, the stream, the bus's
    const ours = await redis.keys(`{${prefix}}:*`);
    expect(ours.filter((k) => k.includes(':c:'))).to.have.length(ids.length);
    expect(ours.filter((k) => k.includes(':done:') || k.includes(':sent:'))).to.deep.equal([]);

    const again = [];
    for (const [i, id] of ids.entries()) again.push(await move(sender, id, i + 1)); // other data
    expect(again).to.deep.equal(answers);
    // command.status has no definition at hand: the catalogue's derives the result
    const status = await bus.status('ash', ids[3]!);
    if (status.status !== 'handled' || status.outcome.kind !== 'appended') {
      expect.fail(`command ${ids[3]} is ${JSON.stringify(status)}`);
    }
    expect(status.outcome.result).to.equal(undefined); // the record left it out
    const { version, globalPosition, ...result } = answers[3]!;
    expect(resultIn([moveTrainer], ids[3]!, status.outcome)).to.deep.equal(result);
    expect(landedAt(status.outcome)).to.deep.equal({ version, globalPosition });
  });

  it('finds a repeat’s events in the archive once the log in Redis no longer holds them', async () => {
    const archive = new MemoryEventArchive();
    const { store, sender } = await start(archive);
    const id = crypto.randomUUID();
    const first = await move(sender, id, 0);
    await move(sender, crypto.randomUUID(), 1);
    const page = await store.readAll({ limit: 100 });
    expect(page.events).to.have.length(2);
    const archived = page.events.map((event) => ({
      partition: 0,
      entryId: event.globalPosition,
      event,
    }));
    expect(await archive.write(0, 1, archived)).to.equal(true);
    // the log and the stream trimmed below the second event: the first is only in the archive now
    const keys = keysFor(prefix);
    expect(await redis.xtrim(keys.all, 'MINID', page.events[1]!.globalPosition)).to.equal(1);
    expect(await redis.xtrim(keys.stream('trainer-ash'), 'MINID', '0-2')).to.equal(1);
    await redis.set(keys.logTrimmed, page.events[0]!.globalPosition); // the newest removed
    expect(await move(sender, id, 0)).to.deep.equal(first);
  });

  it('names the cause when a record’s events are neither in Redis nor in an archive', async () => {
    const { sender } = await start();
    const id = crypto.randomUUID();
    await move(sender, id, 0);
    await move(sender, crypto.randomUUID(), 1);
    const [second] = (await redis.xrevrange(keysFor(prefix).all, '+', '-', 'COUNT', 1)) as [
      string,
      string[],
    ][];
    await redis.xtrim(keysFor(prefix).all, 'MINID', second![0]);
    const error = await move(sender, id, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(error)).to.match(/neither in Redis nor in the archive/);
  });
});
