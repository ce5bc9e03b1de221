import { ENVELOPE_BYTES } from './byte-budget.js';
import type { EventMetadata, Json, RecordedEvent } from './envelope.js';
import { isJsonObject } from './json.js';
import type { RedisClient } from './redis-connection.js';

/** JSON text as a JSON value (what `JSON.parse` returns is JSON by definition). */
function parseJson(text: string): Json {
  return JSON.parse(text);
}

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

const META_STRINGS = ['commandId', 'causationId', 'userId', 'traceparent'] as const;

/** Stored event metadata, checked field by field (it is read back for every event, so no zod). */
function decodeMetadata(text: string | undefined): EventMetadata {
  const raw: unknown = JSON.parse(text ?? '{}');
  if (!isJsonObject(raw)) throw new Error('stored event metadata is not an object');
  const { correlationId, serverId, timestamp } = raw;
  if (
    typeof correlationId !== 'string' ||
    typeof serverId !== 'string' ||
    typeof timestamp !== 'string'
  ) {
    throw new Error('stored event metadata lacks correlationId, serverId or timestamp');
  }
  const metadata: { -readonly [K in keyof EventMetadata]: EventMetadata[K] } = {
    correlationId,
    serverId,
    timestamp,
  };
  for (const field of META_STRINGS) {
    const value = raw[field];
    if (typeof value === 'string') metadata[field] = value;
  }
  return metadata;
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
    data: parseJson(f.data ?? 'null'),
    metadata: decodeMetadata(f.meta),
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

/** The estimated serialised size of the event an entry holds: its stored bytes and an envelope. */
export function entryBytes(entry: StreamEntry): number {
  let bytes = ENVELOPE_BYTES;
  for (const field of entry[1]) bytes += Buffer.byteLength(field);
  return bytes;
}

/** The version held in an entity stream entry id `0-<version>`. */
export function versionOf(entryId: string): number {
  return Number(entryId.slice(entryId.indexOf('-') + 1));
}

/** One blocking `XREAD` of `key` after `after`: at most `count` entries, or none after `blockMs`. */
export async function readAfter(
  conn: RedisClient,
  key: string,
  after: string,
  count: number,
  blockMs: number,
): Promise<StreamEntry[]> {
  const reply = (await conn.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, after)) as
    | [string, StreamEntry[]][]
    | null;
  return reply?.[0]?.[1] ?? [];
}
