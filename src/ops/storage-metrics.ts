/**
 * Storage metrics (issue 15): what snapshots did, Redis's memory (`INFO memory`) and the size of
 * each key family of a partition, sampled with MEMORY USAGE (bounded work per scrape).
 */
import type { Redis } from 'ioredis';
import type { SnapshotStats } from '../commands/entity.js';
import { masters, type RedisClient } from '../events/redis-connection.js';
import type { Metrics } from '../metrics.js';
import { mirror } from './command-metrics.js';
import { parseInfo } from './startup-checks.js';

/** Counts snapshots loaded, rebuilt (not trusted) and written on this instance. */
export function meterSnapshots(metrics: Metrics): SnapshotStats {
  const stats: SnapshotStats = { loaded: 0, rebuilt: 0, saved: 0 };
  mirror(
    metrics,
    'streamcast_snapshots_loaded_total',
    'Entities loaded from a snapshot plus the tail of their stream',
    () => stats.loaded,
  );
  mirror(
    metrics,
    'streamcast_snapshots_rebuilt_total',
    'Snapshots not trusted (corrupt, another schema, beyond the stream) and rebuilt from the events',
    () => stats.rebuilt,
  );
  mirror(
    metrics,
    'streamcast_snapshots_saved_total',
    'Snapshots written (every SNAPSHOT_EVERY events of an entity)',
    () => stats.saved,
  );
  return stats;
}

/** How long one reading of Redis's memory serves the scrapes (it costs a SCAN page per node). */
const MEMORY_CACHE_MS = 15_000;
/** Keys one reading scans per node, and how many of them it sizes with MEMORY USAGE. */
const SCAN_KEYS = 1000;
const SIZED_KEYS = 200;

/** The key families `/metrics` sizes, by what follows a key's hash tag. */
const FAMILIES: readonly (readonly [string, RegExp])[] = [
  ['log', /^:all$/],
  ['entity_streams', /^:s:/],
  ['snapshots', /^:snap:/],
  ['command_records', /^:(c|done|sent):/],
  ['commands', /^:cmd/],
  ['notifications', /^:notify/],
  ['read_models', /^:(rm|proj):/],
  ['jobs', /^:jobs:/],
];

/** The family of a key of this deployment (`other` for the rest). */
export function familyOf(key: string): string {
  const tagEnd = key.indexOf('}');
  const rest = key.slice(tagEnd + 1);
  return FAMILIES.find(([, pattern]) => pattern.test(rest))?.[0] ?? 'other';
}

/** One node's memory reading: used_memory and each family's estimated bytes. */
export interface MemoryReading {
  readonly usedMemory: number;
  readonly families: ReadonlyMap<string, number>;
}

/**
 * Reads a node's memory: `INFO memory`, and each family's bytes estimated from one SCAN page of
 * this deployment's keys (at most SCAN_KEYS, from a random cursor), the first SIZED_KEYS of them
 * sized with MEMORY USAGE (SAMPLES 5): mean size × the family's share of the page × the node's
 * keys of this prefix (DBSIZE scaled by the page's share). Bounded work whatever the key count.
 */
export async function readMemory(node: Redis, prefix: string): Promise<MemoryReading> {
  const usedMemory = Number(parseInfo(await node.info('memory')).used_memory ?? 0);
  const total = await node.dbsize();
  // a small keyspace is read whole from cursor 0; a large one from a random place
  const cursor = total <= SCAN_KEYS ? '0' : String(Math.floor(Math.random() * 2 ** 24));
  const [, scanned] = await node.scan(cursor, 'COUNT', SCAN_KEYS);
  const [, ours] = await node.scan(cursor, 'MATCH', `{${prefix}[}:]*`, 'COUNT', SCAN_KEYS);
  const keysOfPrefix = scanned.length === 0 ? 0 : (total * ours.length) / scanned.length;
  const sized = ours.slice(0, SIZED_KEYS);
  const sizes = await Promise.all(sized.map((k) => node.memory('USAGE', k, 'SAMPLES', 5)));
  const sum = new Map<string, number>();
  sized.forEach((key, i) => {
    const family = familyOf(key);
    sum.set(family, (sum.get(family) ?? 0) + Number(sizes[i] ?? 0));
  });
  const families = new Map<string, number>();
  for (const [family, bytes] of sum) {
    families.set(family, Math.round((bytes / sized.length) * keysOfPrefix));
  }
  return { usedMemory, families };
}

/**
 * Redis memory in `/metrics`: `streamcast_redis_used_memory_bytes` (`INFO memory`, per master) and
 * `streamcast_redis_key_family_bytes` (estimated per family and master, `readMemory`), read at most
 * every MEMORY_CACHE_MS.
 */
export function meterRedisMemory(metrics: Metrics, redis: RedisClient, prefix: string): void {
  let reading: { at: number; nodes: Promise<MemoryReading[]> } | undefined;
  const read = () => {
    if (!reading || Date.now() - reading.at > MEMORY_CACHE_MS) {
      const nodes = Promise.all(masters(redis).map((node) => readMemory(node, prefix)));
      reading = { at: Date.now(), nodes: nodes.catch(() => []) };
    }
    return reading.nodes;
  };
  const nodeName = (i: number) => String(i);
  metrics.gauge({
    name: 'streamcast_redis_used_memory_bytes',
    help: 'Redis used_memory (INFO memory) of each master, node by index',
    labelNames: ['node'] as const,
    async collect() {
      for (const [i, r] of (await read()).entries()) {
        this.set({ node: nodeName(i) }, r.usedMemory);
      }
    },
  });
  metrics.gauge({
    name: 'streamcast_redis_key_family_bytes',
    help: 'Estimated Redis bytes of each key family (log, entity_streams, snapshots, command_records, …) per master: MEMORY USAGE of a sample of at most 200 keys, scaled',
    labelNames: ['node', 'family'] as const,
    async collect() {
      this.reset();
      (await read()).forEach((r, i) => {
        for (const [family, bytes] of r.families) this.set({ node: nodeName(i), family }, bytes);
      });
    },
  });
}
