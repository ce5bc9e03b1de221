import { expect } from 'chai';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import {
  MemorySessionDirectory,
  RedisSessionDirectory,
  SESSION_TTL_S,
  specOf,
} from '../../src/index.js';
import { clearPrefix, keysUnder, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';
import { describeSessionDirectoryContract } from './session-directory.contract.js';

describeSessionDirectoryContract('memory', async (limits) => ({
  directory: new MemorySessionDirectory(limits),
  cleanup: async () => {},
}));

describe('memory session directory expiry (like the Redis one)', () => {
  it('forgets records SESSION_TTL_S after their last use by default', async () => {
    let now = 1_000_000;
    const directory = new MemorySessionDirectory({ maxSessionsPerUser: 64 }, () => now);
    await directory.keep('s1', { userId: 'ash', spec: specOf({}) }, false);
    now += SESSION_TTL_S * 1000 - 1;
    expect(await directory.get('s1')).to.not.equal(undefined);
    now += 1;
    expect(await directory.get('s1')).to.equal(undefined);
  });
});

describeOnTopologies('Redis session directory', (topology) => {
  let redis: RedisClient;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());
  let prefix = '';
  const cleanup = () => clearPrefix(redis, prefix);
  /** Sessions and presence are shared keys: the prefix's own tag, whatever PARTITIONS is. */
  const sharedKeys = () => partitioningFor(prefix, topology().partitions).shared;

  describeSessionDirectoryContract('redis', async (limits) => {
    prefix = uniquePrefix('dir');
    return { directory: new RedisSessionDirectory(redis, sharedKeys(), limits), cleanup };
  });

  it('keeps a session hash and its owner zset, both with the TTL (DESIGN.md §3)', async () => {
    prefix = uniquePrefix('dir');
    const directory = new RedisSessionDirectory(redis, sharedKeys(), { maxSessionsPerUser: 2 });
    await directory.keep('s1', { userId: 'ash', spec: specOf({ topics: ['a'] }) }, false);
    expect(await keysUnder(redis, prefix)).to.deep.equal([
      `{${prefix}}:sse:session:s1`,
      `{${prefix}}:sse:user:ash`,
    ]);
    for (const key of await keysUnder(redis, prefix)) {
      expect(await redis.pttl(key), key).to.be.within(
        SESSION_TTL_S * 1000 - 5000,
        SESSION_TTL_S * 1000,
      );
    }
    await cleanup();
  });
});
