/**
 * Realtime delivery as an instance runs it, on a topology's Redis, without the rest of the app:
 * one single-partition event store and notifications log per partition (as the backend builds
 * them), a hub over every partition's log, `GET /events` on plain http, and appends that take the
 * writer's fast path of their partition. Several of these on one prefix are several instances.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Partitioning, partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { plainEvents } from '../../src/http/plain-events.js';
import {
  Admission,
  DEFAULT_STORE_SETTINGS,
  Hub,
  MemorySessionDirectory,
  makeCaller,
  type NotificationRecord,
  Realtime,
  RedisEventStore,
  RedisNotificationLog,
  silentLogger,
  withFastPath,
} from '../../src/index.js';

/** A stream id of partition `p` (the n-th such), found by hashing candidates. */
export function streamOf(partitioning: Partitioning, p: number, n = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    const id = `messages-p${i}`;
    if (partitioning.of(id) !== p) continue;
    if (found === n) return id;
    found += 1;
  }
}

/** One instance's realtime side. */
export interface HubInstance {
  readonly base: string;
  readonly hub: Hub;
  readonly partitioning: Partitioning;
  /** Appends one event with `notes` to `streamId`, through this instance (its fast path). */
  append(streamId: string, notes: readonly NotificationRecord[]): Promise<void>;
  /** Stops at once: every connection cut, as a killed instance's clients see it. */
  kill(): Promise<void>;
}

/** Starts an instance on `redis` under `prefix` with `partitions` partitions. */
export async function startHubInstance(
  redis: RedisClient,
  prefix: string,
  partitions: number,
  serverId: string,
): Promise<HubInstance> {
  const partitioning = partitioningFor(prefix, partitions);
  const settings = { ...DEFAULT_STORE_SETTINGS, serverId, notifyRetention: 10_000 };
  const stores = partitioning.keys.map((keys) => new RedisEventStore(redis, keys, settings));
  const hub = new Hub({
    log: partitioning.keys.map((keys) => new RedisNotificationLog(redis, keys, silentLogger)),
    serverId,
    heartbeatMs: 200,
    logger: silentLogger,
  });
  const writers = stores.map((store, p) => withFastPath(store, hub, serverId, () => p));
  const realtime = new Realtime({
    hub,
    directory: new MemorySessionDirectory({ maxSessionsPerUser: 16 }),
    serverId,
    admission: new Admission({ maxConnections: 100, maxPerUser: 100 }),
    bounds: { maxBufferedBytes: 1 << 22, stallTimeoutMs: 30_000 },
    limits: { maxFilters: 16, maxFilterValues: 32 },
    maxSessionsPerUser: 16,
    retryMs: 1000,
    presenceTtlMs: 30_000,
    logger: silentLogger,
  });
  await realtime.start();
  const events = plainEvents({
    realtime,
    identify: async (req) => makeCaller(String(req.query.userId), [], []),
    cors: {},
    retryMs: 1000,
    logger: silentLogger,
  });
  const server = createServer((req, res) => {
    if (!events(req, res)) res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hub,
    partitioning,
    append: async (streamId, notes) => {
      const writer = writers[partitioning.of(streamId)]!;
      await writer.append(streamId, [{ type: 'Sent', data: {} }], { notifications: notes });
    },
    kill: async () => {
      server.closeAllConnections();
      server.close();
      await realtime.close();
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}
