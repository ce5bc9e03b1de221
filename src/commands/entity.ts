/**
 * Loading an entity: its state folded from its stream, brought up to date with a tail read from
 * the version it was last seen at (never a full replay per command), and a small cache of the
 * entities seen last.
 */
import type { StoredEvent } from '../domain/decider.js';
import type { EventStore } from '../events/event-store.js';

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

/**
 * The entities seen last, most recent last (a Map keeps insertion order). Cached entities are
 * never mutated: concurrent commands may hold the same one.
 */
export class EntityCache<S> {
  private readonly entities = new Map<string, Entity<S>>();

  constructor(private readonly size: number) {}

  get(streamId: string): Entity<S> | undefined {
    return this.entities.get(streamId);
  }

  remember(streamId: string, entity: Entity<S>): void {
    this.entities.delete(streamId); // re-inserted last
    this.entities.set(streamId, entity);
    if (this.entities.size > this.size) {
      const oldest = this.entities.keys().next();
      if (!oldest.done) this.entities.delete(oldest.value);
    }
  }
}
