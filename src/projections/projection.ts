/**
 * A projection: a name, the event types it handles, and a pure function from one event to the
 * writes it makes to the projection's read model (DESIGN.md G4). The projector applies the writes
 * of a batch together with the checkpoint, so the read model is never ahead of or behind it.
 */
import type { Json, RecordedEvent } from '../events/envelope.js';

/** A read-model document: a flat record of JSON fields, keyed by the projection's own ids. */
export type ReadModelDoc = Record<string, Json>;

/**
 * One write to one document: `delete` removes it first, then `set` overwrites fields and `incr`
 * adds to numeric fields (a missing field counts as 0). Documents are listed in id order.
 */
export interface ReadModelWrite {
  readonly id: string;
  readonly delete?: boolean;
  readonly set?: ReadModelDoc;
  readonly incr?: Readonly<Record<string, number>>;
  /**
   * Then puts the document in a capped index by `score`; past `keep` entries the lowest-scored
   * documents are deleted (e.g. the newest DEPLOY_RESULTS_KEEP finished deployments).
   */
  readonly keepNewest?: KeepNewest;
}

/** See `ReadModelWrite.keepNewest`. */
export interface KeepNewest {
  readonly index: string;
  readonly score: number;
  readonly keep: number;
}

/** A projection's definition; `project` must be pure (same event, same writes). */
export interface Projection {
  /** Its name in keys, `system.status` and `npm run replay -- <name>`. */
  readonly name: string;
  /** Event types it reads; the checkpoint still advances over every other event. */
  readonly eventTypes: readonly string[];
  project(event: RecordedEvent): readonly ReadModelWrite[];
  /**
   * The stream whose events fold into document `id`: its partition holds the document
   * (DESIGN.md §8), so a query for one document reads that partition alone.
   */
  streamOf(id: string): string;
}

/**
 * The writes of several events folded into one write per document, in first-touched order: a later
 * `delete` drops what came before it, a later `set` wins per field, increments add up. Applying the
 * result equals applying the writes one by one (so a batch costs one write per document).
 */
export function coalesceWrites(writes: readonly ReadModelWrite[]): ReadModelWrite[] {
  const byId = new Map<
    string,
    { delete: boolean; set: ReadModelDoc; incr: Record<string, number>; keepNewest?: KeepNewest }
  >();
  for (const write of writes) {
    let merged = byId.get(write.id);
    if (!merged || write.delete) {
      merged = { delete: Boolean(write.delete) || Boolean(merged?.delete), set: {}, incr: {} };
      byId.delete(write.id);
      byId.set(write.id, merged);
    }
    if (write.keepNewest) merged.keepNewest = write.keepNewest;
    for (const [field, value] of Object.entries(write.set ?? {})) {
      merged.set[field] = value;
      delete merged.incr[field];
    }
    for (const [field, by] of Object.entries(write.incr ?? {})) {
      if (field in merged.set && typeof merged.set[field] === 'number') {
        merged.set[field] = (merged.set[field] as number) + by;
      } else {
        merged.incr[field] = (merged.incr[field] ?? 0) + by;
      }
    }
  }
  return [...byId].map(([id, m]) => ({
    id,
    ...(m.delete ? { delete: true } : {}),
    ...(Object.keys(m.set).length ? { set: m.set } : {}),
    ...(Object.keys(m.incr).length ? { incr: m.incr } : {}),
    ...(m.keepNewest ? { keepNewest: m.keepNewest } : {}),
  }));
}

/** Applies writes to documents held in memory (the memory store, and tests' reference folds). */
export function applyWrites(
  docs: Map<string, ReadModelDoc>,
  writes: readonly ReadModelWrite[],
): void {
  const indexes = indexesOf(docs);
  for (const write of writes) {
    if (write.delete) docs.delete(write.id); // (as on Redis: capped indexes keep their entries)
    if (!write.set && !write.incr) continue;
    const doc = { ...(docs.get(write.id) ?? {}) };
    Object.assign(doc, write.set ?? {});
    for (const [field, by] of Object.entries(write.incr ?? {})) {
      doc[field] = (typeof doc[field] === 'number' ? (doc[field] as number) : 0) + by;
    }
    docs.set(write.id, doc);
    if (write.keepNewest) keepNewest(docs, indexes, write.id, write.keepNewest);
  }
}

/** The capped indexes of a document map (index → id → score). */
const indexMaps = new WeakMap<Map<string, ReadModelDoc>, Map<string, Map<string, number>>>();

function indexesOf(docs: Map<string, ReadModelDoc>): Map<string, Map<string, number>> {
  let indexes = indexMaps.get(docs);
  if (!indexes) {
    indexes = new Map();
    indexMaps.set(docs, indexes);
  }
  return indexes;
}

/** Adds to a capped index and deletes the lowest-scored documents past `keep` (ties: by id). */
function keepNewest(
  docs: Map<string, ReadModelDoc>,
  indexes: Map<string, Map<string, number>>,
  id: string,
  k: KeepNewest,
): void {
  const index = indexes.get(k.index) ?? new Map<string, number>();
  indexes.set(k.index, index);
  index.set(id, k.score);
  if (index.size <= k.keep) return;
  const ordered = [...index].sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0));
  for (const [old] of ordered.slice(0, index.size - k.keep)) {
    docs.delete(old);
    index.delete(old);
  }
}

/** Folds events into documents in memory: what a projection's read model must equal. */
export function foldInMemory(
  projection: Projection,
  events: Iterable<RecordedEvent>,
): Map<string, ReadModelDoc> {
  const docs = new Map<string, ReadModelDoc>();
  const types = new Set(projection.eventTypes);
  for (const event of events) {
    if (types.has(event.type)) applyWrites(docs, projection.project(event));
  }
  return docs;
}
