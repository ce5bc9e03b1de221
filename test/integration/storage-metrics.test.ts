import { expect } from 'chai';
import { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  familyOf,
  keysFor,
  RedisEventStore,
  readMemory,
} from '../../src/index.js';
import { clearPrefix, describeWithRedis, testRedisUrl, uniquePrefix } from '../support/redis.js';

describe('key families of /metrics', () => {
  it('names each key by what follows its hash tag', () => {
    const k = keysFor('sc');
    expect(
      [
        k.all,
        k.stream('trainer-ash'),
        k.snapshot('trainer-ash'),
        k.done('u:c'),
        k.commands,
        k.notify,
        k.readModel('trainers'),
        k.jobs('deploy'),
        k.servers,
      ].map(familyOf),
    ).to.deep.equal([
      'log',
      'entity_streams',
      'snapshots',
      'command_records',
      'commands',
      'notifications',
      'read_models',
      'jobs',
      'other',
    ]);
  });
});

describeWithRedis('Redis memory reading (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  before(() => {
    // a database of its own: the reading scans a sample of the keyspace, and the shared test
    // Redis holds many other suites' keys, so only a small keyspace is read whole (exact sums)
    redis = new Redis(testRedisUrl()!, { db: 11, maxRetriesPerRequest: 3 });
    prefix = uniquePrefix('mem');
  });
  after(async () => {
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it('reads used_memory and sizes the families of its own prefix with MEMORY USAGE', async () => {
    const store = new RedisEventStore(redis, keysFor(prefix), {
      ...DEFAULT_STORE_SETTINGS,
      serverId: 'test',
    });
    for (let i = 0; i < 40; i++) {
      await store.append(`trainer-t${i}`, [{ type: 'TrainerMoved', data: { i } }], {
        idempotencyKey: `u:c${i}`,
      });
    }
    const reading = await readMemory(redis, prefix);
    expect(reading.usedMemory).to.be.greaterThan(0);
    const families = Object.fromEntries(reading.families);
    expect(Object.keys(families)).to.include.members(['log', 'entity_streams', 'command_records']);
    // 40 entity streams outweigh the one log key of 40 entries, and each is counted once
    expect(families.entity_streams).to.be.greaterThan(families.log!);
    const log = Number(await redis.memory('USAGE', keysFor(prefix).all, 'SAMPLES', 5));
    expect(families.log).to.equal(log);
  });
});
