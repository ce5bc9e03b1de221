import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { CommandGroup } from '../../src/commands/command-group.js';
import {
  ANY,
  type CommandEnvelope,
  type CommandHandler,
  CommandRuntime,
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  keysFor,
  type Outcome,
  RedisCommandBus,
  RedisEventStore,
  silentLogger,
} from '../../src/index.js';
import { command } from '../contract/command-bus.contract.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('Redis command worker (several instances on one Redis)', function () {
  this.timeout(30_000);
  let redis: Redis;
  let prefix: string;
  let store: RedisEventStore;
  const buses: RedisCommandBus[] = [];
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  beforeEach(() => {
    prefix = uniquePrefix('worker');
    store = new RedisEventStore(redis, keysFor(prefix), {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'test',
    });
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await clearPrefix(redis, prefix);
  });

  function instance(
    serverId: string,
    overrides: Partial<{
      claimIdleMs: number;
      handlerDeadlineMs: number;
      maxAttempts: number;
    }> = {},
  ) {
    const bus = new RedisCommandBus(redis, keysFor(prefix), {
      serverId,
      timeoutMs: 20_000,
      backlogMax: 10_000,
      concurrency: 8,
      claimIdleMs: 300,
      handlerDeadlineMs: 30_000,
      maxAttempts: 3,
      dedupTtlS: 600,
      graceMs: 200,
      fault: FaultSwitch.from(undefined, silentLogger),
      logger: silentLogger,
      ...overrides,
    });
    buses.push(bus);
    return {
      bus,
      start: () => bus.start(),
      send: (c: CommandEnvelope) => bus.send(c),
      status: (id: string) => bus.status('ash', id),
      /** Serves `handlers` through the one runtime, as main.ts does. */
      serve: (handlers: Record<string, CommandHandler>) =>
        bus.serve(new CommandRuntime(store).processor(handlers)),
    };
  }

  const append =
    (serverId: string, runs: string[]): CommandHandler =>
    async () => {
      runs.push(serverId);
      return {
        kind: 'append',
        streamId: 'trainer-ash',
        expectedVersion: ANY,
        expectedByClient: false,
        events: [{ type: 'Did', data: { by: serverId } }],
        notifications: [],
        result: null,
      };
    };

  it('does not take over a slow handler while its instance lives and renews it', async () => {
    const runs: string[] = [];
    const a = instance('a', { claimIdleMs: 800 });
    const b = instance('b', { claimIdleMs: 800 });
    await a.start();
    const slowA = append('a', runs);
    const workerA = await a.serve({
      Do: async (c) => {
        await sleep(4000); // five times COMMAND_CLAIM_IDLE_MS
        return slowA(c);
      },
    });
    const c = command('Do');
    const answer = a.send(c);
    await sleep(100); // a has taken it
    const workerB = await b.serve({ Do: append('b', runs) });
    const outcome = await answer;
    expect(outcome.status).to.equal('handled');
    expect(runs).to.deep.equal(['a']);
    expect(workerB.stats.reclaimed).to.equal(0);
    // the worker counts once its commit returns, which may be just after the reply reached the sender
    for (let i = 0; i < 100 && workerA.stats.handled === 0; i++) await sleep(10);
    expect(workerA.stats.handled).to.equal(1);
  });

  it('reclaims a hung handler after its deadline and handles it elsewhere', async () => {
    const runs: string[] = [];
    const a = instance('a', { handlerDeadlineMs: 500 });
    const b = instance('b', { handlerDeadlineMs: 500 });
    await a.start();
    await a.serve({
      Do: async () => {
        runs.push('a');
        return new Promise<never>(() => {}); // hangs forever
      },
    });
    const c = command('Do');
    const answer = a.send(c);
    await sleep(100);
    const workerB = await b.serve({ Do: append('b', runs) });
    const result = await answer;
    expect(result.status === 'handled' && result.outcome.kind).to.equal('appended');
    expect(runs).to.deep.equal(['a', 'b']);
    expect(workerB.stats.reclaimed).to.be.at.least(1);
    const [event] = (await store.readStream('trainer-ash')).events;
    expect(event?.data).to.deep.equal({ by: 'b' });
  });

  it('counts reclaims as attempts and dead-letters a command that keeps hanging', async () => {
    const hang: CommandHandler = () => new Promise(() => {});
    const a = instance('a', { handlerDeadlineMs: 300, maxAttempts: 2 });
    await a.start();
    const b = instance('b', { handlerDeadlineMs: 300, maxAttempts: 2 });
    const c2 = instance('c', { handlerDeadlineMs: 300, maxAttempts: 2 });
    await a.serve({ Do: hang });
    const c = command('Do');
    const answer = a.send(c);
    await sleep(100);
    await b.serve({ Do: hang });
    await c2.serve({ Do: hang });
    const result = await answer;
    const outcome = (result.status === 'handled' ? result.outcome : undefined) as
      | Outcome
      | undefined;
    expect(outcome?.kind).to.equal('dead');
    expect((await a.status(c.id)).status).to.equal('dead');
    const dead = await redis.xrange(keysFor(prefix).deadCommands, '-', '+');
    expect(dead).to.have.length(1);
    // the backlog counter (COMMAND_BACKLOG_MAX) counted the dead letter off, and a redrive on
    const backlog = async () => Number(await redis.get(keysFor(prefix).commandBacklog));
    expect(await backlog()).to.equal(0);
    await a.bus.redrive('ash', c.id);
    expect(await backlog()).to.equal(1);
  });

  it('answers a waiting sender whose reply publish was lost, by its one-second poll', async () => {
    const a = instance('a');
    await a.start();
    const runtime = new CommandRuntime(store);
    const handler = append('a', []);
    // commits and acknowledges the command but publishes no reply: as if the publish were lost
    const processor = runtime.processor({ Do: handler });
    await a.bus.serve({
      processBatch: (entries) =>
        processor.processBatch(
          entries.map((e) => {
            const { replyTo: _, ...metadata } = e.command.metadata;
            return { ...e, command: { ...e.command, metadata } };
          }),
        ),
    });
    const sent = await a.send(command('Do'));
    expect(sent.status === 'handled' && sent.outcome.kind).to.equal('appended');
  });

  it('renewal reports an entry as lost only when another consumer owns it, not once it is acknowledged', async () => {
    const keys = keysFor(prefix);
    await redis.xgroup('CREATE', keys.commands, 'g', '0', 'MKSTREAM');
    const acked = await redis.xadd(keys.commands, '*', 'id', 'x');
    const taken = await redis.xadd(keys.commands, '*', 'id', 'y');
    const kept = await redis.xadd(keys.commands, '*', 'id', 'z');
    await redis.xreadgroup('GROUP', 'g', 'a', 'COUNT', 10, 'STREAMS', keys.commands, '>');
    await redis.xack(keys.commands, 'g', acked!); // committed while its handler still runs
    await redis.xclaim(keys.commands, 'g', 'b', 0, taken!); // reclaimed by instance b
    const group = new CommandGroup(redis, keys, 'g', 'a');
    expect(await group.renew([acked!, taken!, kept!])).to.deep.equal([taken]);
  });

  it('trims handled commands but never pending ones', async () => {
    const runs: string[] = [];
    const a = instance('a');
    await a.start();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handle = append('a', runs);
    await a.serve({
      Do: handle,
      Hold: async (c) => {
        await gate;
        return handle(c);
      },
    });
    const held = command('Hold');
    const heldAnswer = a.send(held);
    await Promise.all(Array.from({ length: 50 }, () => a.send(command('Do'))));
    const keys = keysFor(prefix);
    const trim = async () =>
      redis.eval(
        (await import('node:fs')).readFileSync(
          new URL('../../src/commands/lua/trim-commands-1.lua', import.meta.url),
          'utf8',
        ),
        1,
        keys.commands,
        'handlers',
      );
    await trim();
    const left = await redis.xrange(keys.commands, '-', '+');
    expect(left.length).to.be.at.least(1); // the held one stays
    expect(left.some(([, fields]) => fields.includes(held.id))).to.equal(true);
    release();
    await heldAnswer;
    await trim();
    expect(await redis.xlen(keys.commands)).to.equal(0);
  });
});
