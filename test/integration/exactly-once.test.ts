import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { partitioningFor, type RedisClient } from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { movesFor, sendEachUntilAnswered } from '../support/exactly-once-load.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';

const COMMANDS = Number(process.env.EXACTLY_ONCE_COMMANDS ?? 3000);
const TRAINERS = 60;
const IN_FLIGHT = 48;

/**
 * DESIGN.md G1/G2/G3 under crashes: three instances, one SIGKILLed mid-burst, the others killing
 * themselves between a batch's read and its commit, or stalling there until the others reclaim
 * and commit the batch before they commit it too (zombie commits; fault switch); clients retry
 * failed calls with the same commandId on another instance. Every command id must end with
 * exactly one event.
 */
describeOnTopologies('exactly-once commands across crashing instances', function (topology) {
  this.timeout(600_000);
  let redis: RedisClient;
  let prefix: string;
  let cluster: Cluster;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());
  afterEach(async () => {
    await cluster?.stop();
    await clearPrefix(redis, prefix);
  });

  it('applies every command exactly once, with gapless versions, and proves faults happened', async () => {
    prefix = uniquePrefix('x1');
    const secret = randomBytes(32).toString('base64');
    // b crashes between reading a batch and committing it; c stalls there (zombie commits);
    // EXACTLY_ONCE_FAULT=no-dedup switches the dedup check off on every instance
    const noDedup = process.env.EXACTLY_ONCE_FAULT === 'no-dedup';
    const faultsOf: Record<string, string | undefined> = {
      a: undefined,
      b: 'exit-before-commit:0.02',
      c: 'stall-before-commit:0.02',
    };
    const faultOf = (slot: string) =>
      [faultsOf[slot], noDedup ? 'no-dedup' : undefined].filter(Boolean).join(',') || undefined;
    cluster = new Cluster((slot, generation) => ({
      ...topology().env(),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${generation}`,
      COMMAND_CLAIM_IDLE_MS: '1000',
      COMMAND_TIMEOUT_MS: '4000',
      STREAMCAST_FAULT: faultOf(slot),
      LOG_LEVEL: 'info',
    }));
    await cluster.start(['a', 'b', 'c']);

    const commands = movesFor(COMMANDS, TRAINERS);
    const { retries } = await sendEachUntilAnswered(commands, cluster, IN_FLIGHT);

    const partitioning = partitioningFor(prefix, topology().partitions);
    const seen = new Map<string, number>();
    for (let t = 0; t < TRAINERS; t++) {
      const stream = `trainer-t${t}`;
      const keys = partitioning.keys[partitioning.of(stream)]!;
      const entries = (await redis.xrange(keys.stream(stream), '-', '+')) as [string, string[]][];
      expect(
        entries.map(([id]) => id),
        `versions of trainer-t${t}`,
      ).to.deep.equal(entries.map((_, i) => `0-${i + 1}`));
      for (const [, fields] of entries) {
        const meta = JSON.parse(fields[fields.indexOf('meta') + 1]!) as { commandId: string };
        seen.set(meta.commandId, (seen.get(meta.commandId) ?? 0) + 1);
      }
    }
    const faultExits = cluster.count(/"fault":"exit-before-commit"/);
    const stalls = cluster.count(/"fault":"stall-before-commit"/);
    const reclaims = cluster.sum('reclaimed');
    const redeliveries = cluster.sum('redelivered');
    const twice = [...seen.values()].filter((n) => n > 1).length;
    process.stdout.write(
      `      partitions ${partitioning.count}, commands ${COMMANDS}, client retries ${retries}, fault exits ${faultExits}, stalls ${stalls}, SIGKILLs 1, reclaims ${reclaims}, redeliveries ${redeliveries}, applied twice ${twice}\n`,
    );
    expect(twice, 'command ids with more than one event').to.equal(0);
    expect(
      commands.filter((c) => seen.get(c.commandId) !== 1),
      'command ids without exactly one event',
    ).to.have.length(0);
    expect(seen.size).to.equal(COMMANDS);
    const logs = await Promise.all(partitioning.keys.map((keys) => redis.xlen(keys.all)));
    expect(logs.reduce((a, b) => a + b, 0)).to.equal(COMMANDS);
    expect(faultExits, 'fault exits').to.be.greaterThan(0);
    expect(stalls, 'stalls before commit').to.be.greaterThan(0);
    expect(reclaims, 'reclaims').to.be.greaterThan(0);
    expect(redeliveries, 'redeliveries').to.be.greaterThan(0);
  });
});
