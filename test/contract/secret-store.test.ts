import { expect } from 'chai';
import { MemorySecretStore, RedisSecretStore, SecretBox } from '../../src/connections/index.js';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { clearPrefix, keysUnder, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';
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

describeOnTopologies('Redis secret store', (topology) => {
  let redis: RedisClient;
  before(() => {
    redis = topology().client();
  });
  after(() => redis.disconnect());
  /** Secrets are shared keys: the prefix's own tag, whatever PARTITIONS is. */
  const sharedKeys = () => partitioningFor(prefix, topology().partitions).shared;

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
    return { store: new RedisSecretStore(redis, sharedKeys()), dump, cleanup };
  });

  describe('layout (DESIGN.md §3)', () => {
    beforeEach(() => {
      prefix = uniquePrefix('secret');
    });
    afterEach(cleanup);

    it('keeps each connection in {prefix}:secret:<connectionId>, a string without TTL', async () => {
      const box = new SecretBox(Buffer.alloc(32, 7));
      const sealed = box.seal('x', 'gh_aaaaaaaaaa');
      await new RedisSecretStore(redis, sharedKeys()).put('gh_aaaaaaaaaa', sealed);
      const key = `{${prefix}}:secret:gh_aaaaaaaaaa`;
      expect(await keysUnder(redis, prefix)).to.deep.equal([key]);
      expect(await redis.type(key)).to.equal('string');
      expect(await redis.get(key)).to.equal(sealed);
      expect(await redis.ttl(key)).to.equal(-1);
    });
  });
});
