/**
 * The event envelope of SPEC.md §4 "Events and streams", and what callers hand to an append.
 */

/** Any value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type Json =
  | null
  | boolean
  | number
  | string
  | readonly Json[]
  | { readonly [k: string]: Json };

/**
 * A JSON value as code builds it: an object's properties may be optional (`JSON.stringify` leaves
 * undefined ones out). What is read back from JSON is plain `Json`.
 */
export type JsonData =
  | null
  | boolean
  | number
  | string
  | readonly JsonData[]
  | { readonly [k: string]: JsonData | undefined };

/** Who and what caused an event; stamped on every recorded event. */
export interface EventMetadata {
  readonly commandId?: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly userId?: string;
  readonly serverId: string;
  /** ISO-8601 time the event was produced (the command's time, not the clock inside Redis). */
  readonly timestamp: string;
  /** W3C trace context of the handling that caused it (when traced, or the request had one). */
  readonly traceparent?: string;
}

/** An event as a decider produces it, before it has a place in any stream. */
export interface NewEvent<Type extends string = string, Data extends Json = Json> {
  readonly type: Type;
  readonly data: Data;
  /** Event id; deterministic ids (uuid v5 of the idempotency key and index) make retries equal. */
  readonly id?: string;
  /** Starts at 1; bump it when the shape of `data` changes. */
  readonly schemaVersion?: number;
  /** Merged over the append's metadata; `serverId` always comes from the store. */
  readonly metadata?: Partial<Omit<EventMetadata, 'serverId'>>;
}

/** An event recorded in a stream and in the global log. */
export interface RecordedEvent<Type extends string = string, Data extends Json = Json> {
  readonly id: string;
  readonly type: Type;
  readonly schemaVersion: number;
  readonly streamId: string;
  /** 1..n in its stream, without gaps. */
  readonly version: number;
  /** Its place in the global log: an opaque cursor, never parse or compare it. */
  readonly globalPosition: string;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/** A notification written with the events that cause it (DESIGN.md G5). */
export interface NotificationRecord {
  /** JSON-RPC method of the notification, e.g. `position.update`. */
  readonly method: string;
  readonly params: { readonly [k: string]: Json };
  /** Addressed to users, groups, or everyone. */
  readonly target: 'user' | 'group' | 'broadcast';
  /** User or group ids; empty for `broadcast`. */
  readonly targetIds: readonly string[];
  /** `.`-separated tokens, e.g. `trainer.ash`; sessions with topic patterns see only matching ones. */
  readonly topic?: string;
}

/** Where a written notification landed in the notifications stream, and the entry before it. */
export interface WrittenNotification {
  readonly id: string;
  /** The entry just before this one (`0-0` when the stream was empty): the writer's fast path needs it. */
  readonly prevId: string;
}

/** What an append expects the stream's version to be. */
export type ExpectedVersion = number | typeof ANY | typeof NO_STREAM | typeof STREAM_EXISTS;

/** No check: append whatever the version is. */
export const ANY = 'any' as const;
/** The stream must not exist yet (same as version 0). */
export const NO_STREAM = 'no_stream' as const;
/** The stream must already have at least one event. */
export const STREAM_EXISTS = 'exists' as const;

/** Stream ids: a kind, a dash, then 1–128 characters of `A–Z a–z 0–9 . _ : -` (SPEC.md §4). */
export const STREAM_ID_PATTERN = /^[a-z][a-z0-9]*-[A-Za-z0-9._:-]{1,128}$/;
