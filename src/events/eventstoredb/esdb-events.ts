/**
 * How streamcast's events are kept in EventStoreDB, and read back: JSON events with their given
 * (deterministic) ids, our metadata as the event's JSON metadata plus `schemaVersion`, and — on
 * the last event of an append that has any — the append's effects (`$streamcast`): what the
 * notifier (notifier.ts) writes to Redis once it reads that event from `$all`: the outcome of the
 * idempotency key, the notifications, the deployment job and the reply. Effects never reach
 * clients: `recordedOf` strips them and hands them out only through `effectsOf`.
 */
import type { AllStreamResolvedEvent, Position, ResolvedEvent } from '@eventstore/db-client';
import { ValidationError } from '../../errors.js';
import type { EventMetadata, Json, RecordedEvent } from '../envelope.js';
import { START } from '../event-store.js';
import type { PreparedAppend, PreparedJob, PreparedNotification } from '../prepare-append.js';

/** The metadata field holding an append's effects. */
const EFFECTS = '$streamcast';

/** What the notifier writes to Redis for one append (on the append's last event). */
export interface AppendEffects {
  /** The idempotency key ('' for none). */
  readonly key: string;
  /** Events in the append (the notifier finds the first from the last). */
  readonly count: number;
  /** The result JSON ('' for none). */
  readonly result: string;
  /** Reply channel ('' for none). */
  readonly reply: string;
  readonly notes: readonly PreparedNotification[];
  readonly job?: Omit<PreparedJob, 'maxWaiting' | 'label'>;
  /** The writer's SERVER_ID (notifications name it, as with the Redis store). */
  readonly serverId: string;
}

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
): Record<string, Json> {
  return {
    ...(metadata as unknown as Record<string, Json>),
    schemaVersion,
    ...(effects ? { [EFFECTS]: effects as unknown as Json } : {}),
  };
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
  const stored = (isObject(event.metadata) ? event.metadata : {}) as Record<string, unknown>;
  const { schemaVersion, [EFFECTS]: effects, ...rest } = stored;
  const metadata = {
    correlationId: '',
    serverId: '',
    timestamp: event.created instanceof Date ? event.created.toISOString() : '',
    ...rest,
  } as unknown as EventMetadata;
  const position = event.position;
  const recorded: RecordedEvent = {
    id: event.id,
    type: event.type,
    schemaVersion: typeof schemaVersion === 'number' ? schemaVersion : 1,
    streamId: event.streamId.slice(streamPrefix.length),
    version: Number(event.revision) + 1,
    globalPosition: position ? positionText(position) : '',
    data: event.isJson
      ? (event.data as Json)
      : Buffer.from(event.data as Uint8Array).toString('base64'),
    metadata,
  };
  if (isObject(effects)) effectsByEvent.set(recorded, effects as unknown as AppendEffects);
  return recorded;
}

function isObject(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}
