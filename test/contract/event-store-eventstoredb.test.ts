import { EventEmitter } from 'node:events';
import type { RedisClient } from '../../src/index.js';
import { type EventStoreTarget, esdbStoreFor, eventStoreTarget } from '../support/eventstore.js';
import {
  clearPrefix,
  describeWithRedis,
  keysUnder,
  testClient,
  uniquePrefix,
} from '../support/redis.js';
import { describeEventStoreContract } from './event-store.contract.js';

function once(emitter: EventEmitter, channel: string): Promise<string> {
  return new Promise((resolve) => emitter.once(channel, resolve));
}

// the same contract as the Redis and memory stores, on EventStoreDB: the test double in CI, a
// real server where TEST_EVENTSTORE_URL is given (test/support/eventstore.ts)
describeWithRedis('EventStoreDB event store contract', () => {
  let redis: RedisClient;
  let subscriber: RedisClient;
  const heard = new EventEmitter();
  before(() => {
    redis = testClient();
    subscriber = testClient();
    subscriber.on('smessage', (channel: string, message: string) => heard.emit(channel, message));
  });
  after(() => {
    redis.disconnect();
    subscriber.disconnect();
  });

  // the client appends through BatchAppend when ServerFeatures lists it (21.10+), else Append
  for (const batchAppend of [true, false]) {
    const name = batchAppend ? 'eventstoredb' : 'eventstoredb (Append only)';
    describeEventStoreContract(name, async () => {
      const target: EventStoreTarget = await eventStoreTarget({ batchAppend });
      const prefix = uniquePrefix('esdb');
      const { store, keys, settle, close } = esdbStoreFor(redis, prefix, target);
      const eventCount = async () => (await store.readAll({ limit: 1000 })).events.length;
      return {
        store,
        settle,
        notificationMethods: async () =>
          (await redis.xrange(keys.notify, '-', '+')).map(([, fields]) => fields[1]!),
        // the notifier's own lease and checkpoint are there from the start: not what an append wrote
        footprint: async () =>
          (await keysUnder(redis, prefix)).filter((k) => !k.includes(':proj:notifier')).length +
          (await eventCount()),
        queued: async (queue) => redis.xlen(keys.jobs(queue)),
        nextReply: async (channel) => {
          await subscriber.ssubscribe(channel);
          return {
            message: once(heard, channel).finally(() => subscriber.sunsubscribe(channel)),
          };
        },
        cleanup: async () => {
          await close();
          await target.stop();
          await clearPrefix(redis, prefix);
        },
      };
    });
  }
});
