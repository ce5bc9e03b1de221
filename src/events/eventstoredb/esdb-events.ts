/**
 * How streamcast's events are kept in EventStoreDB, and read back: JSON events with their given
 * (deterministic) ids, our metadata as the event's JSON metadata plus `schemaVersion`, and — on
 * the last event of an append that has any — the append's effects (`$streamcast`): what the
 * notifier (notifier.ts) writes to Redis once it reads that event from `$all`: the outcome of the
 * idempotency key, the notifications, the deployment job and the reply. Effects never reach
 * clients: `recordedOf` strips them and hands them out only through `effectsOf`.
 */
import type { AllStreamResolvedEvent, Position, ResolvedEvent } from '@eventstore/db-client';
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import type { EventMetadata, Json, RecordedEvent } from '../envelope.js';
import { START } from '../event-store.js';
import type { PreparedAppend } from '../prepare-append.js';

/** The metadata field holding an append's effects. */
const EFFECTS = '$streamcast';

const note = z.object({
  method: z.string(),
  params: z.string(),
  target: z.enum(['user', 'group', 'broadcast']),
  targetIds: z.string(),
  topic: z.string(),
  trace: z.string(),
});

/** What the notifier writes to Redis for one append (on the append's last event), as stored. */
const appendEffectsSchema = z.object({
  /** The idempotency key ('' for none). */
  key: z.string(),
  /** Events in the append (the notifier finds the first from the last). */
  count: z.number().int().min(1),
  /** The result JSON ('' for none). */
  result: z.string(),
  /** Reply channel ('' for none). */
  reply: z.string(),
  notes: z.array(note).readonly(),
  job: z
    .object({
      queue: z.string(),
      group: z.string(),
      id: z.string(),
      type: z.string(),
      data: z.string(),
      meta: z.string(),
    })
    .optional(),
  /** The writer's SERVER_ID (notifications name it, as with the Redis store). */
  serverId: z.string(),
});

export type AppendEffects = z.output<typeof appendEffectsSchema>;

/** Our metadata as stored, read back from any event (other tools' events may lack fields). */
const storedMetadataSchema = z
  .object({
    commandId: z.string().optional(),
    correlationId: z.string().default(''),
    causationId: z.string().optional(),
    userId: z.string().optional(),
    serverId: z.string().default(''),
    timestamp: z.string().optional(),
    traceparent: z.string().optional(),
    schemaVersion: z.number().int().default(1),
    [EFFECTS]: z.unknown().optional(),
  })
  .catch({ correlationId: '', serverId: '', schemaVersion: 1 });

/** The effects of `p`, or undefined when it has none (no key, notification, job or reply). */
export function effectsOf(p: PreparedAppend, serverId: string): AppendEffects | undefined {
  if (!p.idempotencyKey && p.notifications.length === 0 && !p.job && !p.replyChannel) return;
  const job = p.job
    ? {
        queue: p.job.queue,
        group: p.job.group,
        id: p.job.id,
        type: p.job.type,
        data: p.job.data,
        meta: p.job.meta,
      }
    : undefined;
  return {
    key: p.idempotencyKey,
    count: p.events.length,
    result: p.resultJson,
    reply: p.replyChannel,
    notes: p.notifications,
    ...(job ? { job } : {}),
    serverId,
  };
}

/** The JSON metadata stored with one event (the last of an append carries its effects). */
export function storedMetadata(
  metadata: EventMetadata,
  schemaVersion: number,
  effects: AppendEffects | undefined,
): Record<string, unknown> {
  return { ...metadata, schemaVersion, ...(effects ? { [EFFECTS]: effects } : {}) };
}

/**
 * `<commit>-<prepare>`: an EventStoreDB `$all` position as a streamcast position. It orders
 * like a Redis entry id (commit first, then prepare), which is how the projection store, the
 * reply waiter's `minPosition` and the SSE code already compare positions.
 */
export function positionText(position: Position): string {
  return `${position.commit}-${position.prepare}`;
}

/** The `$all` position of a streamcast position; undefined for `"0"` (the start). Bad text: ValidationError. */
export function parsePosition(text: string | undefined): Position | undefined {
  const value = text ?? START;
  if (value === START) return undefined;
  const match = typeof value === 'string' ? /^(\d{1,20})-(\d{1,20})$/.exec(value) : null;
  if (!match) {
    throw new ValidationError(
      `invalid position ${JSON.stringify(value)}: pass a globalPosition or nextPosition you were given, or "0"`,
      [{ path: 'after', message: 'invalid position' }],
    );
  }
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

/** -1, 0 or 1 as `a` is before, equal to or after `b` in `$all`. */
export function comparePositions(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  if (a.prepare !== b.prepare) return a.prepare < b.prepare ? -1 : 1;
  return 0;
}

/**
 * True for events that are not this store's: EventStoreDB's own (`$`-typed, or in `$`-named
 * streams) and, with a stream prefix (EVENTSTORE_STREAM_PREFIX), streams outside it.
 */
export function isForeignEvent(
  resolved: ResolvedEvent | AllStreamResolvedEvent,
  streamPrefix: string,
): boolean {
  const event = resolved.event;
  if (!event || event.type.startsWith('$') || event.streamId.startsWith('$')) return true;
  return !event.streamId.startsWith(streamPrefix);
}

const effectsByEvent = new WeakMap<RecordedEvent, AppendEffects>();

/** The effects an event read by `recordedOf` carried (only ever the last event of an append). */
export function appendEffectsOf(event: RecordedEvent): AppendEffects | undefined {
  return effectsByEvent.get(event);
}

/**
 * One EventStoreDB event as streamcast's `RecordedEvent`: version = revision + 1, position as
 * `positionText`, the stream's name without the store's prefix, metadata without `schemaVersion` and effects. Events written by other tools
 * keep what they have: non-JSON data reads as base64 text, missing metadata fields as empty.
 */
export function recordedOf(
  resolved: ResolvedEvent | AllStreamResolvedEvent,
  streamPrefix = '',
): RecordedEvent {
  const event = resolved.event;
  if (!event) throw new Error('an EventStoreDB read returned a link without its event');
  const stored = storedMetadataSchema.parse(isObject(event.metadata) ? event.metadata : {});
  const { schemaVersion, [EFFECTS]: effects, timestamp, ...rest } = stored;
  const metadata: EventMetadata = {
    ...withoutUndefined(rest),
    timestamp: timestamp ?? (event.created instanceof Date ? event.created.toISOString() : ''),
  };
  const position = event.position;
  const recorded: RecordedEvent = {
    id: event.id,
    type: event.type,
    schemaVersion,
    streamId: event.streamId.slice(streamPrefix.length),
    version: Number(event.revision) + 1,
    globalPosition: position ? positionText(position) : '',
    data: event.isJson
      ? jsonOf(event.data)
      : Buffer.from(event.data as Uint8Array).toString('base64'),
    metadata,
  };
  const decoded = effects === undefined ? undefined : appendEffectsSchema.safeParse(effects);
  if (decoded?.success) effectsByEvent.set(recorded, decoded.data);
  return recorded;
}

/** The parsed JSON data of an event as our `Json` (what JSON.parse gave the client). */
const jsonSchema: z.ZodType<Json> = z.json();
function jsonOf(data: unknown): Json {
  const parsed = jsonSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

function withoutUndefined<T extends object>(
  value: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function isObject(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}
