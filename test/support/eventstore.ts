/**
 * Where the EventStoreDB suites run: a real server when TEST_EVENTSTORE_URL is set (each suite
 * in streams of its own prefix, so runs can share one server), else the protocol-level test
 * double of test/support/eventstore-double (what CI proves the adapter against).
 */
import { EventStoreDBClient } from '@eventstore/db-client';
import { EsdbEventStore } from '../../src/events/eventstoredb/esdb-event-store.js';
import { EsdbNotifier } from '../../src/events/eventstoredb/notifier.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { RedisEventStore } from '../../src/events/redis-event-store.js';
import { DEFAULT_STORE_SETTINGS, keysFor, type StoreSettings } from '../../src/index.js';
import { silentLogger } from '../../src/log.js';
import { RedisProjectionStore } from '../../src/projections/redis-projection-store.js';
import { type EventStoreDouble, startEventStoreDouble } from './eventstore-double/index.js';
import { uniquePrefix } from './redis.js';

/** An EventStoreDB to test against. */
export interface EventStoreTarget {
  readonly connectionString: string;
  /** Streams of this run start with it ('' on a fresh double). */
  readonly streamPrefix: string;
  /** The double, when it is one (for stop/start and assertions). */
  readonly double?: EventStoreDouble;
  /** 'a real server at …' or 'the test double' (printed by the suites). */
  readonly label: string;
  stop(): Promise<void>;
}

/**
 * `batchAppend: false`: a double whose ServerFeatures omit BatchAppend, so the client appends
 * through the plain `Append` call (as with servers before 21.10); ignored on a real server.
 */
export async function eventStoreTarget(
  options: { readonly batchAppend?: boolean } = {},
): Promise<EventStoreTarget> {
  const url = process.env.TEST_EVENTSTORE_URL;
  if (url) {
    return {
      connectionString: url,
      streamPrefix: `${uniquePrefix('sc')}.`,
      label: `a real EventStoreDB at ${url}`,
      stop: async () => {},
    };
  }
  const double = await startEventStoreDouble(options);
  return {
    connectionString: double.connectionString,
    streamPrefix: '',
    double,
    label: `the EventStoreDB test double${options.batchAppend === false ? ' (Append only)' : ''}`,
    stop: () => double.stop(),
  };
}

/** An EventStoreDB store on `target` with its Redis side under `prefix`, and its notifier running. */
export function esdbStoreFor(redis: RedisClient, prefix: string, target: EventStoreTarget) {
  const settings: StoreSettings = { ...DEFAULT_STORE_SETTINGS, serverId: 'test-server' };
  const keys = keysFor(prefix);
  const client = EventStoreDBClient.connectionString(target.connectionString);
  const outcomes = new RedisEventStore(redis, keys, settings);
  const store = new EsdbEventStore(
    client,
    { redis, keys, outcomes },
    settings,
    target.streamPrefix,
  );
  const projections = new RedisProjectionStore(redis, keys);
  const notifier = new EsdbNotifier({
    events: store,
    store: projections,
    owner: 'test-server',
    leaseTtlMs: 3000,
    logger: silentLogger,
    redis,
    keys,
    dedupTtlS: settings.dedupTtlS,
    notifyRetention: settings.notifyRetention,
  });
  return {
    store,
    keys,
    notifier,
    /** Resolves once the notifier wrote the effects of every append so far (20 s bound). */
    settle: async () => {
      const head = await store.head();
      for (let waited = 0; notifier.position !== head; waited += 20) {
        if (waited > 20_000) {
          throw new Error(`the notifier stayed at ${notifier.position}; $all is at ${head}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: async () => {
      await notifier.close();
      await store.close();
      await projections.close();
      await client.dispose().catch(() => {});
    },
  };
}
