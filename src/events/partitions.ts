/**
 * Partitions (DESIGN.md §8): the data is split into `PARTITIONS` partitions, fixed for its
 * lifetime. A stream belongs to partition `fnv1a(streamId) mod PARTITIONS`; each partition has a
 * hash tag of its own, chosen so that its cluster slot lies in the p-th 1/P of the slot space, so
 * a cluster that splits slots evenly gets partitions evenly. One partition keeps today's `{prefix}`.
 */
import { type Keys, keysFor } from './keys.js';

/** Redis Cluster's slot count. */
export const SLOTS = 16384;

/** Most partitions a deployment may have (each costs every instance a few connections). */
export const MAX_PARTITIONS = 256;

/** The keys of every partition and the shared ones. */
export interface Partitioning {
  /** PARTITIONS */
  readonly count: number;
  /** Partition p's keys (its tag on every partition key; shared keys keep `{prefix}`). */
  readonly keys: readonly Keys[];
  /** Keys shared by all partitions (servers, presence, SSE sessions, secrets, meta): `{prefix}`. */
  readonly shared: Keys;
  /** The partition of a stream. */
  of(streamId: string): number;
}

/** Builds the partitioning of `prefix` into `count` partitions. */
export function partitioningFor(prefix: string, count: number): Partitioning {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    throw new Error(`PARTITIONS must be an integer from 1 to ${MAX_PARTITIONS}, not ${count}`);
  }
  const shared = keysFor(prefix);
  const keys = count === 1 ? [shared] : partitionTags(prefix, count).map((t) => keysFor(prefix, t));
  return { count, keys, shared, of: (streamId) => partitionOf(streamId, count) };
}

/** The partition of `streamId` among `count`: FNV-1a (32-bit) of its UTF-8 bytes, mod `count`. */
export function partitionOf(streamId: string, count: number): number {
  if (count === 1) return 0;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(streamId, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/**
 * The tag of each of `count` partitions: `{<prefix>:<p>.<n>}` with the smallest `n` whose slot lies
 * in `[p·SLOTS/count, (p+1)·SLOTS/count)`. Deterministic, so every instance derives the same tags.
 */
export function partitionTags(prefix: string, count: number): string[] {
  const tags: string[] = [];
  for (let p = 0; p < count; p++) {
    const low = Math.floor((p * SLOTS) / count);
    const high = Math.floor(((p + 1) * SLOTS) / count);
    for (let n = 0; ; n++) {
      const slot = keySlot(`${prefix}:${p}.${n}`);
      if (slot >= low && slot < high) {
        tags.push(`${prefix}:${p}.${n}`);
        break;
      }
    }
  }
  return tags;
}

/** The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag (or whole key) mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let hashed = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, 'utf8')) % SLOTS;
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  return crc;
}
