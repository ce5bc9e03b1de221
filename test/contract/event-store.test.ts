import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import {
  DEFAULT_STORE_SETTINGS,
  keysFor,
  MemoryEventStore,
  type RedisClient,
  RedisEventStore,
  type StoreSettings,
} from '../../src/index.js';
import {
  clearPrefix,
  describeWithRedis,
  keysUnder,
  testClient,
  uniquePrefix,
} from '../support/redis.js';
import { redisStoreFor } from '../support/redis-stores.js';
import { describeOnTopologies } from '../support/topologies.js';
import { describeEventStoreContract } from './event-store.contract.js';

const settings: StoreSettings = { ...DEFAULT_STORE_SETTINGS, serverId: 'test-server' };

function once(emitter: EventEmitter, channel: string): Promise<string> {
  return new Promise((resolve) => emitter.once(channel, resolve));
}

describeEventStoreContract('memory', async () => {
  const store = new MemoryEventStore(settings);
  return {
    store,
    footprint: async () => Object.values(store.stats()).reduce((a, b) => a + b, 0),
    nextReply: async (channel) => ({ message: once(store.replies, channel) }),
    queued: async (queue) => store.jobs.waiting(queue),
    cleanup: () => store.close(),
  };
});

describeOnTopologies('Redis event store contract', (topology) => {
  let redis: RedisClient;
  let subscriber: RedisClient;
  const heard = new EventEmitter();
  before(async () => {
    redis = topology().client();
    subscriber = topology().client();
    subscriber.on('smessage', (channel: string, message: string) => heard.emit(channel, message));
  });
  after(() => {
    redis.disconnect();
    subscriber.disconnect();
  });

  describeEventStoreContract('redis', async () => {
    const prefix = uniquePrefix('es');
    const { store, partitioning } = redisStoreFor(redis, prefix, topology().partitions);
    return {
      store,
      partitioned: partitioning.count > 1,
      // a script may SPUBLISH only in its own slot: the stream's partition's channel
      replyChannel: (streamId, name) => partitioning.keys[partitioning.of(streamId)]!.reply(name),
      footprint: async () => (await keysUnder(redis, prefix)).length,
      queued: async (queue, streamId) =>
        redis.xlen(partitioning.keys[partitioning.of(streamId)]!.jobs(queue)),
      nextReply: async (channel) => {
        await subscriber.ssubscribe(channel);
        return {
          message: once(heard, channel).finally(() => subscriber.sunsubscribe(channel)),
        };
      },
      cleanup: async () => {
        await store.close();
        await clearPrefix(redis, prefix);
      },
    };
  });
});

describeWithRedis('Redis event store', () => {
  let redis: Redis;
  before(async () => {
    redis = testClient();
  });
  after(() => {
    redis.disconnect();
  });

  const make = async (prefix = uniquePrefix('es')) => {
    const keys = keysFor(prefix);
    const store = new RedisEventStore(redis, keys, settings);
    return { prefix, keys, store };
  };

  describe('Redis layout (DESIGN.md §3)', () => {
    it('keeps every key under the prefix hash tag, with entity entry ids 0-<version>', async () => {
      const { prefix, keys, store } = await make();
      await store.append(
        'trainer-ash',
        [
          { type: 'A', data: { a: 1 } },
          { type: 'B', data: null },
        ],
        {
          idempotencyKey: 'cmd-1',
          notifications: [
            {
              method: 'position.update',
              params: { x: 1 },
              target: 'broadcast',
              targetIds: [],
              topic: 'trainer.ash',
            },
          ],
        },
      );
      expect(await keysUnder(redis, prefix)).to.deep.equal(
        [keys.stream('trainer-ash'), keys.all, keys.notify, keys.done('cmd-1')].sort(),
      );
      const entries = await redis.xrange(keys.stream('trainer-ash'), '-', '+');
      expect(entries.map(([id]) => id)).to.deep.equal(['0-1', '0-2']);
      const [entry] = (await redis.xrange(keys.notify, '-', '+')) as [string, string[]][];
      expect(entry?.[1]).to.deep.equal([
        'method',
        'position.update',
        'params',
        '{"x":1}',
        'target',
        'broadcast',
        'targetIds',
        '',
        'topic',
        'trainer.ash',
        'serverId',
        'test-server',
      ]);
      await redis.del(...(await keysUnder(redis, prefix)));
    });

    it('remembers an idempotency key for COMMAND_DEDUP_TTL_S', async () => {
      const prefix = uniquePrefix('ttl');
      const keys = keysFor(prefix);
      const store = new RedisEventStore(redis, keys, { ...settings, dedupTtlS: 1234 });
      await store.append('trainer-a', [{ type: 'A', data: {} }], { idempotencyKey: 'k-1' });
      await store.recordOutcome('k-2', {
        kind: 'rejected',
        error: { error: 'rule', message: 'no', rule: 'no' },
      });
      const ttls = await Promise.all([redis.ttl(keys.done('k-1')), redis.ttl(keys.done('k-2'))]);
      for (const ttl of ttls) expect(ttl).to.be.within(1230, 1234);
      await redis.del(...(await keysUnder(redis, prefix)));
    });

    it('trims notifications to about NOTIFY_RETENTION', async () => {
      const prefix = uniquePrefix('trim');
      const keys = keysFor(prefix);
      const store = new RedisEventStore(redis, keys, { ...settings, notifyRetention: 100 });
      const notification = {
        method: 'm.x',
        params: {},
        target: 'broadcast',
        targetIds: [],
      } as const;
      for (let i = 0; i < 20; i++) {
        await store.append('trainer-a', [{ type: 'A', data: {} }], {
          notifications: Array.from({ length: 50 }, () => notification),
        });
      }
      const length = await redis.xlen(keys.notify);
      expect(length).to.be.within(100, 300); // approximate MAXLEN trims whole macro nodes
      await redis.del(...(await keysUnder(redis, prefix)));
    });

    it('reloads its scripts after SCRIPT FLUSH (a restarted Redis)', async () => {
      const { prefix, store } = await make();
      await store.append('trainer-a', [{ type: 'A', data: {} }]);
      await redis.script('FLUSH');
      const again = await store.append('trainer-a', [{ type: 'A', data: {} }]);
      expect(again.duplicate ? 0 : again.lastVersion).to.equal(2);
      await redis.del(...(await keysUnder(redis, prefix)));
    });
  });
});
