/**
 * Snapshots of entities (issue 15): every SNAPSHOT_EVERY events the decider runtime stores an
 * entity's state with its version, the decider's schema and a checksum, in the stream's slot, and
 * loads from the newest snapshot plus the tail. A snapshot is a cache: one that is missing, corrupt
 * (checksum), of another schema, or beyond the stream (Redis lost events) is rebuilt from the
 * events, never trusted over them.
 */
import { createHash } from 'node:crypto';
import type { Keys } from '../events/keys.js';
import type { RedisClient } from '../events/redis-connection.js';

/** A stored snapshot, as read back (unverified). */
export interface Snapshot {
  /** The stream version the state folds up to. */
  readonly version: number;
  /** The decider's schema of the state (e.g. `trainer/1`): another one is never loaded. */
  readonly schema: string;
  /** The state as JSON. */
  readonly state: string;
  /** `snapshotChecksum` of the three above. */
  readonly checksum: string;
}

/** Where snapshots are kept: one per stream, the newest written. */
export interface SnapshotStore {
  load(streamId: string): Promise<Snapshot | undefined>;
  save(streamId: string, snapshot: Snapshot): Promise<void>;
  /**
   * The version of the stream's newest sound snapshot (checksum verified), 0 without one: the
   * trimmer keeps the entity stream from there (issue 15 "Retention").
   */
  newestSnapshotVersion(streamId: string): Promise<number>;
}

/** The checksum a snapshot carries: SHA-256 (128 bits, hex) of its schema, version and state. */
export function snapshotChecksum(schema: string, version: number, state: string): string {
  return createHash('sha256').update(`${schema}\n${version}\n${state}`).digest('hex').slice(0, 32);
}

/** A snapshot of `state` at `version`, checksummed. */
export function snapshotOf(schema: string, version: number, state: unknown): Snapshot {
  const json = JSON.stringify(state);
  return { version, schema, state: json, checksum: snapshotChecksum(schema, version, json) };
}

/** True when the snapshot is intact (its checksum matches what it holds). */
export function isSound(snapshot: Snapshot): boolean {
  return (
    Number.isSafeInteger(snapshot.version) &&
    snapshot.version > 0 &&
    snapshot.checksum === snapshotChecksum(snapshot.schema, snapshot.version, snapshot.state)
  );
}

/** Why a stored snapshot is not loaded, or undefined when it may be (the stream is checked apart). */
export function distrust(snapshot: Snapshot, schema: string): string | undefined {
  if (!isSound(snapshot)) return 'its checksum does not match what it holds';
  if (snapshot.schema !== schema) return `it has schema ${snapshot.schema}, not ${schema}`;
  return undefined;
}

/** Snapshots in a Map (the in-memory store, tests). */
export class MemorySnapshotStore implements SnapshotStore {
  readonly snapshots = new Map<string, Snapshot>();

  async load(streamId: string): Promise<Snapshot | undefined> {
    return this.snapshots.get(streamId);
  }

  async save(streamId: string, snapshot: Snapshot): Promise<void> {
    this.snapshots.set(streamId, snapshot);
  }

  async newestSnapshotVersion(streamId: string): Promise<number> {
    const snapshot = this.snapshots.get(streamId);
    return snapshot && isSound(snapshot) ? snapshot.version : 0;
  }
}

/** Snapshots in Redis: a hash per stream, `{tag}:snap:<streamId>`, in the stream's partition. */
export class RedisSnapshotStore implements SnapshotStore {
  /** @param keysOf the keys of a stream's partition. */
  constructor(
    private readonly redis: RedisClient,
    private readonly keysOf: (streamId: string) => Keys,
  ) {}

  async load(streamId: string): Promise<Snapshot | undefined> {
    const [v, s, c, d] = await this.redis.hmget(
      this.keysOf(streamId).snapshot(streamId),
      'v',
      's',
      'c',
      'd',
    );
    if (v === null || v === undefined) return undefined;
    return { version: Number(v), schema: s ?? '', checksum: c ?? '', state: d ?? '' };
  }

  async save(streamId: string, snapshot: Snapshot): Promise<void> {
    const { version, schema, checksum, state } = snapshot;
    await this.redis.hset(this.keysOf(streamId).snapshot(streamId), {
      v: version,
      s: schema,
      c: checksum,
      d: state,
    });
  }

  async newestSnapshotVersion(streamId: string): Promise<number> {
    const snapshot = await this.load(streamId);
    return snapshot && isSound(snapshot) ? snapshot.version : 0;
  }
}
