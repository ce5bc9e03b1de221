/**
 * Loading an entity: its state folded from its stream, brought up to date with a tail read from
 * the version it was last seen at (never a full replay per command), and a small cache of the
 * entities seen last; an entity not cached loads from its snapshot plus the tail (snapshots.ts).
 */
import type { StoredEvent } from '../domain/decider.js';
import type { EventStore } from '../events/event-store.js';
import { distrust, type SnapshotStore, snapshotOf } from './snapshots.js';

/** An entity's state and the stream version it holds. */
export interface Entity<S> {
  readonly state: S;
  readonly version: number;
}

/** How an entity folds its stored events: decode each, then evolve. */
export interface Fold<E, S> {
  evolve(state: S, event: E): S;
  /** Undefined for event types the entity does not know (they change nothing it decides on). */
  decode(event: StoredEvent): E | undefined;
}

/** Folds the events of `streamId` after `from` into it, a page at a time. */
export async function catchUp<E, S>(
  store: Pick<EventStore, 'readStream'>,
  fold: Fold<E, S>,
  streamId: string,
  from: Entity<S>,
): Promise<Entity<S>> {
  let { state, version } = from;
  for (;;) {
    const page = await store.readStream(streamId, { fromVersion: version + 1, limit: 1000 });
    for (const stored of page.events) {
      const event = fold.decode(stored);
      if (event !== undefined) state = fold.evolve(state, event);
    }
    version = page.events.at(-1)?.version ?? version;
    if (page.isEnd) return { state, version };
  }
}

/** True when `streamId` still holds `version` (it goes back only when Redis lost events). */
export async function holdsVersion(
  store: Pick<EventStore, 'readStream'>,
  streamId: string,
  version: number,
): Promise<boolean> {
  if (version === 0) return true;
  const page = await store.readStream(streamId, { fromVersion: version, limit: 1 });
  return page.events[0]?.version === version;
}

/** The values of the keys seen last, most recent last (a Map keeps insertion order). */
export class Recent<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly size: number) {}

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  remember(key: string, value: V): void {
    this.values.delete(key); // re-inserted last
    this.values.set(key, value);
    if (this.values.size > this.size) {
      const oldest = this.values.keys().next();
      if (!oldest.done) this.values.delete(oldest.value);
    }
  }
}

/**
 * The entities seen last. Cached entities are never mutated: concurrent commands may hold the
 * same one.
 */
export class EntityCache<S> extends Recent<Entity<S>> {}

/** What snapshots did (metrics, tests). */
export interface SnapshotStats {
  /** Entities loaded from a snapshot plus the tail. */
  loaded: number;
  /** Snapshots not trusted (corrupt, another schema, beyond the stream): folded from the events. */
  rebuilt: number;
  /** Snapshots written. */
  saved: number;
}

/** Snapshots of one definition's entities (SNAPSHOT_EVERY > 0 and the definition opts in). */
export interface Snapshotting {
  readonly store: SnapshotStore;
  /** SNAPSHOT_EVERY: events between snapshots. */
  readonly every: number;
  /** The decider's schema of the state (`CommandDefinition.snapshot.schema`). */
  readonly schema: string;
  readonly stats: SnapshotStats;
  /** Hears why a stored snapshot was not trusted (logged by the wiring). */
  readonly distrusted?: (streamId: string, why: string) => void;
}

/** An entity loaded afresh, and the version of the snapshot it came from (0: none; -1: replace it). */
export interface Loaded<S> {
  readonly entity: Entity<S>;
  readonly snapshotAt: number;
}

/**
 * Loads an entity afresh: from its snapshot plus the tail when the snapshot is sound, of the
 * decider's schema and held by the stream; else folded from the events (`snapshotAt` -1 then, so
 * the caller writes a good one).
 */
export async function loadEntity<E, S>(
  store: Pick<EventStore, 'readStream'>,
  fold: Fold<E, S>,
  streamId: string,
  initial: Entity<S>,
  snapshotting: Snapshotting,
): Promise<Loaded<S>> {
  const snapshot = await snapshotting.store.load(streamId);
  if (!snapshot) return { entity: await catchUp(store, fold, streamId, initial), snapshotAt: 0 };
  let why = distrust(snapshot, snapshotting.schema);
  if (why === undefined) {
    // the page starts at the snapshot's own version: the stream must still hold it
    const page = await store.readStream(streamId, { fromVersion: snapshot.version, limit: 1000 });
    if (page.events[0]?.version === snapshot.version) {
      let state = JSON.parse(snapshot.state) as S;
      for (const stored of page.events.slice(1)) {
        const event = fold.decode(stored);
        if (event !== undefined) state = fold.evolve(state, event);
      }
      const at = { state, version: page.events.at(-1)!.version };
      snapshotting.stats.loaded += 1;
      const entity = page.isEnd ? at : await catchUp(store, fold, streamId, at);
      return { entity, snapshotAt: snapshot.version };
    }
    why = `its version ${snapshot.version} is not in the stream (events were lost)`;
  }
  snapshotting.stats.rebuilt += 1;
  snapshotting.distrusted?.(streamId, why);
  return { entity: await catchUp(store, fold, streamId, initial), snapshotAt: -1 };
}

/**
 * Writes a snapshot of `entity` when SNAPSHOT_EVERY events passed since `snapshotAt` (or the one
 * there was not trusted); the version of the newest snapshot afterwards.
 */
export async function snapshotIfDue<S>(
  streamId: string,
  entity: Entity<S>,
  snapshotAt: number,
  snapshotting: Snapshotting,
): Promise<number> {
  const due = snapshotAt < 0 || entity.version - snapshotAt >= snapshotting.every;
  if (entity.version === 0 || !due) return snapshotAt;
  await snapshotting.store.save(
    streamId,
    snapshotOf(snapshotting.schema, entity.version, entity.state),
  );
  snapshotting.stats.saved += 1;
  return entity.version;
}
