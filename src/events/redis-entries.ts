import type { EventMetadata, Json, RecordedEvent } from './envelope.js';

/** A stream entry as ioredis returns it: `[id, [field, value, field, value, …]]`. */
export type StreamEntry = [id: string, fields: string[]];

/** A flat Redis reply `[field, value, field, value, …]` (stream entries, XINFO) as a record. */
export function fieldMap<V>(flat: readonly V[]): Record<string, V> {
  const out: Record<string, V> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1]!;
  return out;
}

function fieldsOf(entry: StreamEntry): Record<string, string> {
  return fieldMap(entry[1]);
}

function envelope(
  f: Record<string, string>,
  streamId: string,
  version: number,
  globalPosition: string,
): RecordedEvent {
  return {
    id: f.id ?? '',
    type: f.type ?? '',
    schemaVersion: Number(f.schema ?? 1),
    streamId,
    version,
    globalPosition,
    data: JSON.parse(f.data ?? 'null') as Json,
    metadata: JSON.parse(f.meta ?? '{}') as EventMetadata,
  };
}

/** Decodes an entity stream entry (`0-<version>`, fields `id type schema data meta pos`). */
export function decodeStreamEntry(streamId: string, entry: StreamEntry): RecordedEvent {
  const f = fieldsOf(entry);
  return envelope(f, streamId, versionOf(entry[0]), f.pos ?? '');
}

/** Decodes a global log entry (auto id, fields `stream version id type schema data meta`). */
export function decodeLogEntry(entry: StreamEntry): RecordedEvent {
  const f = fieldsOf(entry);
  return envelope(f, f.stream ?? '', Number(f.version), entry[0]);
}

/** The version held in an entity stream entry id `0-<version>`. */
export function versionOf(entryId: string): number {
  return Number(entryId.slice(entryId.indexOf('-') + 1));
}
