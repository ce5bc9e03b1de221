import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { MemorySecretStore, RedisSecretStore, SecretBox } from '../../src/connections/index.js';
import { keysFor } from '../../src/events/keys.js';
import {
  clearPrefix,
  describeWithRedis,
  keysUnder,
  testClient,
  uniquePrefix,
} from '../support/redis.js';
import { describeSecretStoreContract } from './secret-store.contract.js';

describeSecretStoreContract('memory', async () => {
  const store = new MemorySecretStore();
  return {
    store,
    // its private map, read for the test only
    dump: async () =>
      JSON.stringify([...(store as unknown as { secrets: Map<string, string> }).secrets]),
    cleanup: async () => {},
  };
});

describeWithRedis('Redis secret store', () => {
  let redis: Redis;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());

  let prefix = '';
  const dump = async () => {
    const keys = await keysUnder(redis, prefix);
    const values = await Promise.all(keys.map((k) => redis.get(k)));
    return JSON.stringify(keys.map((k, i) => [k, values[i]]));
  };
  const cleanup = async () => {
    await clearPrefix(redis, prefix);
  };

  describeSecretStoreContract('redis', async () => {
    prefix = uniquePrefix('secret');
    return { store: new RedisSecretStore(redis, keysFor(prefix)), dump, cleanup };
  });

  describe('layout (DESIGN.md §3)', () => {
    beforeEach(() => {
      prefix = uniquePrefix('secret');
    });
    afterEach(cleanup);

    it('keeps each connection in {prefix}:secret:<connectionId>, a string without TTL', async () => {
      const box = new SecretBox(Buffer.alloc(32, 7));
      const sealed = box.seal('x', 'gh_aaaaaaaaaa');
      await new RedisSecretStore(redis, keysFor(prefix)).put('gh_aaaaaaaaaa', sealed);
      const key = `{${prefix}}:secret:gh_aaaaaaaaaa`;
      expect(await keysUnder(redis, prefix)).to.deep.equal([key]);
      expect(await redis.type(key)).to.equal('string');
      expect(await redis.get(key)).to.equal(sealed);
      expect(await redis.ttl(key)).to.equal(-1);
    });
  });
});
