/**
 * REDIS_WAIT_REPLICAS (DESIGN.md §8): no answer — reply, poll, repeat or status — leaves before a
 * WAIT saw the replicas take the outcome. Run on both topologies: the test redis-server has no
 * replica, so every WAIT falls short and every answer is -32030 with the outcome kept unconfirmed;
 * the cluster has a replica per master, so every answer is confirmed first.
 */
import { expect } from 'chai';
import { toRpcError } from '../../src/error-codes.js';
import type { ReplicaWait } from '../../src/events/outcome-confirmer.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import {
  ANY,
  type CommandEnvelope,
  type CommandHandler,
  CommandRuntime,
  DEFAULT_STORE_SETTINGS,
  FaultSwitch,
  keysFor,
  RedisCommandBus,
  RedisEventStore,
  ReplicaShortfallError,
  silentLogger,
} from '../../src/index.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';

const WAIT_TIMEOUT_MS = 300;

function command(userId = 'ash'): CommandEnvelope {
  return {
    id: crypto.randomUUID(),
    type: 'Do',
    data: {},
    metadata: { commandId: '', userId, correlationId: 'c', timestamp: new Date().toISOString() },
  };
}

const appending: CommandHandler = async (c) => ({
  kind: 'append',
  streamId: 'trainer-ash',
  expectedVersion: ANY,
  expectedByClient: false,
  events: [{ type: 'Did', data: { commandId: c.id } }],
  notifications: [],
  result: { ok: c.id },
});

describeOnTopologies('REDIS_WAIT_REPLICAS=1', (topology) => {
  let redis: RedisClient;
  let prefix: string;
  let wait: ReplicaWait;
  let bus: RedisCommandBus;
  let store: RedisEventStore;
  const hasReplicas = () => topology().name === 'cluster';

  beforeEach(async () => {
    redis = topology().client();
    prefix = uniquePrefix('wait');
    wait = {
      replicas: 1,
      timeoutMs: WAIT_TIMEOUT_MS,
      stats: { confirmed: 0, shortfalls: 0, shortfallAnswers: 0 },
      logger: silentLogger,
    };
    const keys = keysFor(prefix);
    store = new RedisEventStore(redis, keys, {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'wait-a',
      replicaWait: wait,
    });
    bus = new RedisCommandBus(redis, keys, {
      maxAttempts: 2,
      timeoutMs: 5000,
      serverId: 'wait-a',
      backlogMax: 10_000,
      concurrency: 16,
      claimIdleMs: 1000,
      handlerDeadlineMs: 30_000,
      dedupTtlS: 600,
      graceMs: 1000,
      fault: FaultSwitch.from(undefined, silentLogger),
      logger: silentLogger,
      replicaWait: wait,
    });
    await bus.start();
  });
  afterEach(async () => {
    await bus.close();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  const recordKey = (c: CommandEnvelope) => keysFor(prefix).done(`${c.metadata.userId}:${c.id}`);
  const stored = (c: CommandEnvelope) => redis.get(recordKey(c));
  const serve = (handler: CommandHandler) =>
    bus.serve(new CommandRuntime(store).processor({ Do: handler }));

  it('answers a handled command only once WAIT saw a replica (else -32030, outcome kept unconfirmed)', async () => {
    await serve(appending);
    const c = command();
    const sent = bus.send(c);
    if (hasReplicas()) {
      const answer = await sent;
      expect(answer.status === 'handled' && answer.outcome.kind).to.equal('appended');
      expect(await stored(c)).to.match(/^a(\d+:)?\d+-\d+\|/); // confirmed: no mark; a reference
      expect(wait.stats.confirmed).to.be.greaterThan(0);
      expect(wait.stats.shortfalls).to.equal(0);
    } else {
      const error = await sent.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(ReplicaShortfallError);
      const rpc = toRpcError(error);
      expect(rpc.code).to.equal(-32030);
      expect(rpc.data).to.deep.equal({ commandId: c.id, replicas: 1, acked: 0 });
      expect(rpc.message).to.match(/command\.status.*same id/);
      expect(await stored(c)).to.match(/^~a(\d+:)?\d+-\d+\|/); // written, not confirmed
      expect(wait.stats.shortfalls).to.be.greaterThan(0);
      expect(wait.stats.shortfallAnswers).to.equal(1);
    }
    console.log(`      ${topology().name}: ${JSON.stringify(wait.stats)}`);
  });

  it('a repeat and command.status confirm an unconfirmed outcome before answering it', async () => {
    // a writer that died between its commit and its WAIT leaves the outcome unconfirmed
    const c = command();
    const outcome = {
      kind: 'appended',
      streamId: 'trainer-ash',
      firstVersion: 1,
      lastVersion: 1,
      globalPositions: ['1-0'],
      result: { ok: c.id },
    };
    await redis.set(recordKey(c), `~${JSON.stringify(outcome)}`, 'EX', 600);
    const status = await bus.status('ash', c.id);
    const repeat = await bus.send(c).then(
      (answer) => answer,
      (e: unknown) => e,
    );
    if (hasReplicas()) {
      expect(status).to.deep.equal({ status: 'handled', outcome });
      expect(repeat).to.deep.equal({ status: 'handled', outcome });
      expect(await stored(c)).to.equal(JSON.stringify(outcome));
    } else {
      expect(status).to.deep.equal({ status: 'pending' }); // not durable yet: ask again
      expect(repeat).to.be.instanceOf(ReplicaShortfallError);
      expect(await stored(c)).to.equal(`~${JSON.stringify(outcome)}`);
      expect(wait.stats.shortfalls).to.equal(2);
    }
  });

  it("the reply waiter's poll confirms an outcome whose writer never replied", async () => {
    const c = command();
    const sent = bus.send(c).then(
      (answer) => answer,
      (e: unknown) => e,
    );
    // no worker serves it; the "dead writer" leaves its unconfirmed outcome (the poll runs each second)
    await new Promise((resolve) => setTimeout(resolve, 100));
    const outcome = { kind: 'rejected', error: { error: 'rule', message: 'no', rule: 'r' } };
    await redis.set(recordKey(c), `~${JSON.stringify(outcome)}`, 'EX', 600);
    const answer = await sent;
    if (hasReplicas()) {
      expect(answer).to.deep.equal({ status: 'handled', outcome });
      expect(await stored(c)).to.equal(JSON.stringify(outcome));
    } else {
      expect(answer).to.be.instanceOf(ReplicaShortfallError);
      expect(wait.stats.shortfallAnswers).to.equal(1);
    }
  });

  it('a dead-lettered command is answered only once confirmed', async () => {
    await serve(async () => {
      throw new Error('always fails');
    });
    const c = command();
    const answer = await bus.send(c).then(
      (a) => a,
      (e: unknown) => e,
    );
    const text = await stored(c);
    if (hasReplicas()) {
      expect(answer).to.deep.include({ status: 'handled' });
      expect(text).to.match(/^\{"kind":"dead"/);
    } else {
      expect(answer).to.be.instanceOf(ReplicaShortfallError);
      expect(text).to.match(/^~\{"kind":"dead"/);
    }
  });
});
