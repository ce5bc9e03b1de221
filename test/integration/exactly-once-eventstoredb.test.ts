import { randomBytes } from 'node:crypto';
import { EventStoreDBClient, StreamNotFoundError } from '@eventstore/db-client';
import { expect } from 'chai';
import { RpcCallError, RpcClient } from '../../src/client/index.js';
import { keysFor, type RedisClient } from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { type EventStoreTarget, eventStoreTarget } from '../support/eventstore.js';
import { movesFor, sendEachUntilAnswered } from '../support/exactly-once-load.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

const COMMANDS = Number(process.env.EXACTLY_ONCE_COMMANDS ?? 1500);
const TRAINERS = 40;
const IN_FLIGHT = 32;

/**
 * DESIGN.md §4 under crashes, with STORE=eventstoredb: four instances on EventStoreDB (the test
 * double, or TEST_EVENTSTORE_URL); one SIGKILLed mid-burst, one killing itself between reading a
 * batch and committing it, one — the window this store adds — once EventStoreDB holds a command's
 * events but before Redis has its acknowledgement, outcome or reply (exit-after-append), the
 * fourth stalling before its commit until others reclaim the batch (a zombie append). Clients
 * retry with the same commandId. Every command id must end with exactly one event, every stream
 * gapless, every outcome recorded by the notifier.
 */
describeWithRedis('exactly-once commands on EventStoreDB across crashing instances', function () {
  this.timeout(600_000);
  let redis: RedisClient;
  let prefix: string;
  let cluster: Cluster | undefined;
  let target: EventStoreTarget | undefined;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  afterEach(async () => {
    await cluster?.stop();
    await target?.stop();
    await clearPrefix(redis, prefix);
  });

  it('applies every command exactly once, with gapless versions, and proves faults happened', async () => {
    prefix = uniquePrefix('xe');
    target = await eventStoreTarget();
    const esdb = target;
    const secret = randomBytes(32).toString('base64');
    const faultsOf: Record<string, string | undefined> = {
      a: undefined,
      // one fault each, so that each fires often enough in every run
      b: 'exit-before-commit:0.03',
      c: 'stall-before-commit:0.02',
      d: 'exit-after-append:0.03',
    };
    cluster = new Cluster((slot, generation) => ({
      REDIS_URL: testRedisUrl(),
      STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: esdb.connectionString,
      EVENTSTORE_STREAM_PREFIX: esdb.streamPrefix,
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${generation}`,
      COMMAND_CLAIM_IDLE_MS: '1000',
      COMMAND_TIMEOUT_MS: '4000',
      // b and d die often: a command can meet them more than the default 3 times
      COMMAND_MAX_ATTEMPTS: '10',
      STREAMCAST_FAULT: faultsOf[slot],
      LOG_LEVEL: 'info',
    }));
    await cluster.start(['a', 'b', 'c', 'd']);
    const running = cluster;

    const commands = movesFor(COMMANDS, TRAINERS);
    const { retries } = await sendEachUntilAnswered(commands, running, IN_FLIGHT).catch((error) => {
      // what the instances said when a command could not be answered
      const problems = running.lines().filter((l) => /"level":"(warn|error)"/.test(l));
      process.stdout.write(`${problems.slice(0, 15).join('\n')}\n`);
      throw error;
    });

    const client = EventStoreDBClient.connectionString(esdb.connectionString);
    const seen = new Map<string, number>();
    const newest = new Map<string, { version: number; position: string }>();
    try {
      for (let t = 0; t < TRAINERS; t++) {
        const versions: number[] = [];
        try {
          for await (const { event } of client.readStream(`${esdb.streamPrefix}trainer-t${t}`)) {
            if (!event) continue;
            versions.push(Number(event.revision) + 1);
            const at = event.position;
            if (at)
              newest.set(`t${t}`, {
                version: versions.length,
                position: `${at.commit}-${at.prepare}`,
              });
            const { commandId } = event.metadata as { commandId: string };
            seen.set(commandId, (seen.get(commandId) ?? 0) + 1);
          }
        } catch (error) {
          if (!(error instanceof StreamNotFoundError)) throw error;
        }
        expect(versions, `versions of trainer-t${t}`).to.deep.equal(versions.map((_, i) => i + 1));
      }
    } finally {
      await client.dispose();
    }
    // the projection folds $all through the same port: each trainer's read model, once the
    // projection reached its newest event, is at that event's version
    const projected = await Promise.all(
      [...newest].map(async ([trainerId, { version, position }]) => {
        const rpc = new RpcClient({
          url: running.liveUrls()[0]!,
          headers: { 'X-User-Id': trainerId },
        });
        // -32032 (not there yet) while a restarted instance takes the projection's lease over
        for (let waited = 0; ; waited += 500) {
          try {
            const view = await rpc.call<{ version: number }>('trainer.get', {
              trainerId,
              minPosition: position,
            });
            return view.version === version;
          } catch (error) {
            if (!(error instanceof RpcCallError) || error.code !== -32032 || waited > 60_000)
              throw error;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      }),
    );
    expect(
      projected.filter(Boolean).length,
      "read models at their stream's newest version",
    ).to.equal(newest.size);
    // the notifier recorded every outcome (the answers came from it)
    const keys = keysFor(prefix);
    // a command's key is its user's and its id (keyOf in src/commands/command-bus.ts)
    const records = await Promise.all(
      commands.map((c) => redis.exists(keys.done(`${c.trainerId}:${c.commandId}`))),
    );
    const exitsBefore = running.count(/"fault":"exit-before-commit"/);
    const exitsAfterAppend = running.count(/"fault":"exit-after-append"/);
    const stalls = running.count(/"fault":"stall-before-commit"/);
    const takenOver = running.sum('takenOver');
    const reclaims = running.sum('reclaimed');
    const redeliveries = running.sum('redelivered');
    const twice = [...seen.values()].filter((n) => n > 1).length;
    process.stdout.write(
      `      on ${esdb.label}: commands ${COMMANDS}, client retries ${retries}, exits before commit ${exitsBefore}, exits after the append ${exitsAfterAppend}, stalls ${stalls}, SIGKILLs 1, entries a zombie found taken over ${takenOver}, reclaims ${reclaims}, redeliveries ${redeliveries}, applied twice ${twice}, outcomes recorded ${records.filter(Boolean).length}\n`,
    );
    expect(twice, 'command ids with more than one event').to.equal(0);
    expect(
      commands.filter((c) => seen.get(c.commandId) !== 1),
      'command ids without exactly one event',
    ).to.have.length(0);
    expect(seen.size).to.equal(COMMANDS);
    expect(records.filter(Boolean).length, 'outcomes the notifier recorded').to.equal(COMMANDS);
    expect(exitsBefore, 'exits before commit').to.be.greaterThan(0);
    expect(exitsAfterAppend, 'exits after the append').to.be.greaterThan(0);
    expect(stalls, 'stalls before commit').to.be.greaterThan(0);
    expect(reclaims, 'reclaims').to.be.greaterThan(0);
    expect(redeliveries, 'redeliveries').to.be.greaterThan(0);
  });
});
