import { expect } from 'chai';
import { toRpcError } from '../../src/error-codes.js';
import {
  ANY,
  type CommandBus,
  type CommandEnvelope,
  type CommandHandler,
  CommandRuntime,
  CommandTimeoutError,
  DomainRuleError,
  type EventStore,
  errorOfOutcome,
  NotFoundError,
  OverloadedError,
} from '../../src/index.js';

/** What a contract run needs from an adapter. */
export interface CommandBusFixture {
  readonly bus: CommandBus;
  readonly store: EventStore;
  /** A second bus on the same backend with a small backlog limit and no worker. */
  overloadedBus?(backlogMax: number): CommandBus;
  cleanup(): Promise<void>;
}

/** Settings the fixtures must use, so the timing-dependent cases agree. */
export const BUS_TEST_SETTINGS = { maxAttempts: 3, timeoutMs: 5000 } as const;

let seq = 0;
export function command(type: string, data: CommandEnvelope['data'] = {}): CommandEnvelope {
  seq += 1;
  return {
    id: crypto.randomUUID(),
    type,
    data,
    metadata: {
      commandId: '',
      userId: 'ash',
      correlationId: `corr-${seq}`,
      timestamp: new Date().toISOString(),
      // the stream its handlers append to: with partitions the bus routes the command by it
      streamId: `trainer-${(data as { trainer?: string } | null)?.trainer ?? 'ash'}`,
    },
  };
}

/** A handler that decides one event per command (committed under the command id) and counts runs. */
function appending(runs: Map<string, number>): CommandHandler {
  return async (c) => {
    runs.set(c.id, (runs.get(c.id) ?? 0) + 1);
    const trainer = (c.data as { trainer?: string }).trainer ?? 'ash';
    return {
      kind: 'append',
      streamId: `trainer-${trainer}`,
      expectedVersion: ANY,
      expectedByClient: false,
      events: [{ type: 'Did', data: { commandId: c.id } }],
      notifications: [],
      result: { ok: c.id },
    };
  };
}

/** The CommandBus contract (DESIGN.md §4), run against every adapter. */
export function describeCommandBusContract(
  name: string,
  makeFixture: () => Promise<CommandBusFixture>,
): void {
  describe(`CommandBus contract: ${name}`, function () {
    this.timeout(20_000);
    let fx: CommandBusFixture;
    const runs = new Map<string, number>();
    beforeEach(async () => {
      runs.clear();
      fx = await makeFixture();
    });
    afterEach(async () => {
      await fx.cleanup();
    });
    /** Serves `handlers` through the one runtime, as main.ts does. */
    const serve = (handlers: Record<string, CommandHandler>) =>
      fx.bus.serve(new CommandRuntime(fx.store).processor(handlers));

    it('handles a command once and answers with its outcome', async () => {
      await serve({ Do: appending(runs) });
      const c = command('Do');
      const sent = await fx.bus.send(c);
      expect(sent.status).to.equal('handled');
      if (sent.status !== 'handled') return;
      expect(sent.outcome).to.include({
        kind: 'appended',
        streamId: 'trainer-ash',
        lastVersion: 1,
      });
      expect(sent.outcome.kind === 'appended' && sent.outcome.result).to.deep.equal({ ok: c.id });
      expect(runs.get(c.id)).to.equal(1);
      expect(await fx.bus.status('ash', c.id)).to.deep.equal({
        status: 'handled',
        outcome: sent.outcome,
      });
    });

    it('answers a repeated command id from its recorded outcome without running it again', async () => {
      await serve({ Do: appending(runs) });
      const c = command('Do');
      const [a, b] = await Promise.all([fx.bus.send(c), fx.bus.send(c)]);
      const again = await fx.bus.send(c);
      expect(a).to.deep.equal(b);
      expect(again).to.deep.equal(a);
      expect(runs.get(c.id)).to.equal(1);
      expect((await fx.store.readStream('trainer-ash')).events).to.have.length(1);
    });

    it("scopes command ids by sender: another user's reuse of an id is another command", async () => {
      await serve({ Do: appending(runs) });
      const ash = command('Do');
      const bob = { ...ash, metadata: { ...ash.metadata, userId: 'bob' } };
      const forAsh = await fx.bus.send(ash);
      const forBob = await fx.bus.send(bob);
      expect(forAsh.status === 'handled' && forAsh.outcome.kind).to.equal('appended');
      expect(forBob.status === 'handled' && forBob.outcome.kind).to.equal('appended');
      expect(forBob).to.not.deep.equal(forAsh); // bob never gets ash's outcome
      expect(runs.get(ash.id)).to.equal(2); // one run each
      expect((await fx.bus.status('ash', ash.id)).status).to.equal('handled');
      expect((await fx.bus.status('bob', ash.id)).status).to.equal('handled');
      expect(await fx.bus.status('misty', ash.id)).to.deep.equal({ status: 'unknown' });
      expect((await fx.store.readStream('trainer-ash')).events).to.have.length(2);
    });

    it('handles many commands, each exactly once', async () => {
      await serve({ Do: appending(runs) });
      const commands = Array.from({ length: 200 }, (_, i) =>
        command('Do', { trainer: `t${i % 10}` }),
      );
      const results = await Promise.all(commands.map((c) => fx.bus.send(c)));
      expect(results.every((r) => r.status === 'handled')).to.equal(true);
      expect([...runs.values()].every((n) => n === 1)).to.equal(true);
      expect(runs.size).to.equal(200);
      let total = 0;
      for (let i = 0; i < 10; i++) {
        const page = await fx.store.readStream(`trainer-t${i}`, { limit: 1000 });
        expect(page.events.map((e) => e.version)).to.deep.equal(
          Array.from({ length: 20 }, (_, v) => v + 1),
        );
        total += page.events.length;
      }
      expect(total).to.equal(200);
    });

    it('records a domain error as the answer, never retrying it', async () => {
      await serve({
        Stop: async (c) => {
          runs.set(c.id, (runs.get(c.id) ?? 0) + 1);
          throw new DomainRuleError('trainer-not-moving', 'the trainer is not moving');
        },
      });
      const c = command('Stop');
      const sent = await fx.bus.send(c);
      expect(sent).to.deep.equal({
        status: 'handled',
        outcome: {
          kind: 'rejected',
          error: {
            error: 'rule',
            message: 'the trainer is not moving',
            rule: 'trainer-not-moving',
          },
        },
      });
      expect(await fx.bus.send(c)).to.deep.equal(sent);
      expect(runs.get(c.id)).to.equal(1);
    });

    it('retries a transient failure and then succeeds', async () => {
      const handler = appending(runs);
      await serve({
        Flaky: async (c) => {
          if ((runs.get(c.id) ?? 0) === 0) {
            runs.set(c.id, 1);
            throw new Error('connection reset');
          }
          return handler(c);
        },
      });
      const c = command('Flaky');
      const sent = await fx.bus.send(c);
      expect(sent.status === 'handled' && sent.outcome.kind).to.equal('appended');
      expect(runs.get(c.id)).to.equal(2);
    });

    it('dead-letters a command that always fails after its attempts, and the others flow on', async () => {
      await serve({
        Broken: async (c) => {
          runs.set(c.id, (runs.get(c.id) ?? 0) + 1);
          throw new Error('disk on fire');
        },
        Do: appending(runs),
      });
      const bad = command('Broken');
      const goods = Array.from({ length: 20 }, () => command('Do'));
      const [deadResult, ...goodResults] = await Promise.all([
        fx.bus.send(bad),
        ...goods.map((c) => fx.bus.send(c)),
      ]);
      expect(
        goodResults.every((r) => r.status === 'handled' && r.outcome.kind === 'appended'),
      ).to.equal(true);
      expect(deadResult?.status === 'handled' && deadResult.outcome).to.deep.include({
        kind: 'dead',
        attempts: BUS_TEST_SETTINGS.maxAttempts,
      });
      expect(runs.get(bad.id)).to.equal(BUS_TEST_SETTINGS.maxAttempts);
      const status = await fx.bus.status('ash', bad.id);
      expect(status.status).to.equal('dead');
      expect(
        status.status === 'dead' && toRpcError(errorOfOutcome(bad.id, status.outcome)).code,
      ).to.equal(-32031);
      const [letter, ...others] = await fx.bus.deadLetters();
      expect(others).to.have.length(0);
      expect(letter?.command).to.include({ id: bad.id, type: 'Broken' });
      expect(letter).to.include({
        attempts: BUS_TEST_SETTINGS.maxAttempts,
        error: 'Error: disk on fire',
      });
    });

    it('redrives a dead command under the same id once its cause is fixed', async () => {
      let fixed = false;
      const handler = appending(runs);
      await serve({
        Fragile: async (c) => {
          if (!fixed) throw new Error('dependency down');
          return handler(c);
        },
      });
      const c = command('Fragile');
      const first = await fx.bus.send(c);
      expect(first.status === 'handled' && first.outcome.kind).to.equal('dead');
      try {
        await fx.bus.redrive('ash', crypto.randomUUID());
        expect.fail('expected NotFoundError');
      } catch (error) {
        expect(error).to.be.instanceOf(NotFoundError);
      }
      fixed = true;
      await fx.bus.redrive('ash', c.id);
      const deadline = Date.now() + 10_000;
      while ((await fx.bus.status('ash', c.id)).status !== 'handled' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const status = await fx.bus.status('ash', c.id);
      expect(status.status === 'handled' && status.outcome.kind).to.equal('appended');
      expect(await fx.bus.deadLetters()).to.have.length(0);
      try {
        await fx.bus.redrive('ash', c.id);
        expect.fail('a handled command cannot be redriven');
      } catch (error) {
        expect(error).to.be.instanceOf(NotFoundError);
      }
    });

    it('times out with CommandTimeoutError while the handler is still busy, and reports it later', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const handler = appending(runs);
      await serve({
        Slow: async (c) => {
          await gate;
          return handler(c);
        },
      });
      const c = command('Slow');
      try {
        await fx.bus.send(c, { timeoutMs: 200 });
        expect.fail('expected a timeout');
      } catch (error) {
        expect(error).to.be.instanceOf(CommandTimeoutError);
        expect((error as CommandTimeoutError).commandId).to.equal(c.id);
      }
      expect((await fx.bus.status('ash', c.id)).status).to.equal('pending');
      release();
      const later = await fx.bus.send(c);
      expect(later.status === 'handled' && later.outcome.kind).to.equal('appended');
      expect(runs.get(c.id)).to.equal(1);
    });

    it('queues without waiting, and knows nothing of unknown ids', async () => {
      await serve({ Do: appending(runs) });
      const c = command('Do');
      expect(await fx.bus.send(c, { wait: false })).to.deep.equal({ status: 'queued' });
      const deadline = Date.now() + 5000;
      while ((await fx.bus.status('ash', c.id)).status !== 'handled' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect((await fx.bus.status('ash', c.id)).status).to.equal('handled');
      expect(await fx.bus.status('ash', crypto.randomUUID())).to.deep.equal({ status: 'unknown' });
    });

    it('refuses new commands past COMMAND_BACKLOG_MAX', async () => {
      if (!fx.overloadedBus) return;
      const bus = fx.overloadedBus(3);
      for (let i = 0; i < 3; i++) await bus.send(command('Do'), { wait: false });
      try {
        await bus.send(command('Do'), { wait: false });
        expect.fail('expected OverloadedError');
      } catch (error) {
        expect(error).to.be.instanceOf(OverloadedError);
        expect((error as OverloadedError).retryAfterMs).to.be.greaterThan(0);
      }
    });

    it('counts the backlog exactly: sends of one turn are refused past the limit, handled ones free it', async () => {
      if (!fx.overloadedBus) return;
      const bus = fx.overloadedBus(3);
      const commands = Array.from({ length: 5 }, () => command('Do'));
      const first = await Promise.allSettled(commands.map((c) => bus.send(c, { wait: false })));
      const accepted = commands.filter((_, i) => first[i]!.status === 'fulfilled');
      expect(accepted).to.have.length(3);
      for (const r of first.filter((r) => r.status === 'rejected'))
        expect(r.reason).to.be.instanceOf(OverloadedError);
      await bus.serve(new CommandRuntime(fx.store).processor({ Do: appending(runs) }));
      const handled = async () =>
        (await Promise.all(accepted.map((c) => bus.status('ash', c.id)))).every(
          (s) => s.status === 'handled',
        );
      const deadline = Date.now() + 10_000;
      while (!(await handled()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100)); // the worker finishes its bookkeeping
      // every handled command was counted off: the whole limit is free again
      const again = await Promise.all(
        Array.from({ length: 3 }, () => bus.send(command('Do'), { wait: true })),
      );
      expect(again.map((r) => r.status)).to.deep.equal(['handled', 'handled', 'handled']);
      expect(runs.size).to.equal(6);
    });
  });
}
