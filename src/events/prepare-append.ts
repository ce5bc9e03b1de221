import { v4 as uuidv4 } from 'uuid';
import { type Issue, OverloadedError, ValidationError } from '../errors.js';
import {
  ANY,
  type EventMetadata,
  type ExpectedVersion,
  type Json,
  type NewEvent,
  NO_STREAM,
  type NotificationRecord,
  STREAM_EXISTS,
  STREAM_ID_PATTERN,
} from './envelope.js';
import type { AppendOptions } from './event-store.js';
import { byteLength, isJsonObject, jsonIssues } from './json.js';
import type { ReplicaWait } from './outcome-confirmer.js';

/** Limits and identity every event store adapter applies the same way. */
export interface StoreSettings {
  /** Stamped on every event's metadata and every notification. */
  readonly serverId: string;
  /** `MAX_EVENT_BYTES`: largest serialised `data` of one event (and of a recorded result). */
  readonly maxEventBytes: number;
  /** `MAX_NOTIFICATION_BYTES`: largest serialised notification `params`. */
  readonly maxNotificationBytes: number;
  /** `COMMAND_DEDUP_TTL_S`: how long an idempotency key's outcome is remembered. */
  readonly dedupTtlS: number;
  /** `NOTIFY_RETENTION`: approximate number of notifications kept. */
  readonly notifyRetention: number;
  /**
   * Test-only (`STREAMCAST_FAULT=…,no-dedup`, refused in production): append without checking the
   * idempotency key first, to show that the exactly-once test catches its absence.
   */
  readonly unsafeSkipDedupCheck?: boolean;
  /** REDIS_WAIT_REPLICAS > 0: outcomes are answered only once WAIT saw the replicas (§8). */
  readonly replicaWait?: ReplicaWait;
}

/** Defaults of SPEC.md §2, for tests and embedding. */
export const DEFAULT_STORE_SETTINGS: Omit<StoreSettings, 'serverId'> = {
  maxEventBytes: 65536,
  maxNotificationBytes: 16384,
  dedupTtlS: 86400,
  notifyRetention: 100000,
};

/** Most events one append may carry. */
export const MAX_EVENTS_PER_APPEND = 1000;

const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;
const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:/-]{1,256}$/;
const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;
const METHOD = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
const TOPIC = /^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$/;
const META_FIELDS = [
  'commandId',
  'correlationId',
  'causationId',
  'userId',
  'timestamp',
  'traceparent',
] as const;

/** An event serialised for writing. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  /** `data` serialised. */
  readonly data: string;
  /** `metadata` serialised. */
  readonly meta: string;
  /** The validated values themselves, so adapters need not parse what they just serialised. */
  readonly dataValue: Json;
  readonly metadata: EventMetadata;
}

/** A notification serialised for writing (`targetIds` comma-joined, `topic` '' when none). */
export interface PreparedNotification {
  readonly method: string;
  readonly params: string;
  readonly target: NotificationRecord['target'];
  readonly targetIds: string;
  readonly topic: string;
  /** The append's `traceparent` ('' when none): SSE delivery links to it. */
  readonly trace: string;
}

/** An append checked and serialised: adapters write it without further checks. */
export interface PreparedAppend {
  readonly streamId: string;
  readonly expected: {
    readonly kind: 'any' | 'no_stream' | 'exists' | 'exact';
    readonly version: number;
  };
  readonly idempotencyKey: string;
  readonly resultJson: string;
  /** `AppendOptions.resultDerived` */
  readonly resultDerived: boolean;
  readonly replyChannel: string;
  readonly events: readonly PreparedEvent[];
  readonly notifications: readonly PreparedNotification[];
  /** The job to queue, serialised (`{sc}:jobs:<queue>` entry fields id type data meta). */
  readonly job?: PreparedJob;
}

/** A job serialised for writing. */
export interface PreparedJob {
  readonly queue: string;
  readonly group: string;
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly meta: string;
  readonly maxWaiting: number;
  readonly label?: string;
}

const QUEUE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** The error of an append whose job queue is full (nothing was written). */
export function queueFull(
  job: Pick<PreparedJob, 'queue' | 'maxWaiting' | 'label'>,
  waiting: number,
): OverloadedError {
  return new OverloadedError(
    `${job.label ?? `the ${job.queue}`} queue is full: ${waiting} jobs wait for a runner (at most ${job.maxWaiting}); retry later`,
    5000,
  );
}

function prepareJob(
  job: AppendOptions['enqueue'],
  meta: string,
  issues: Issue[],
): PreparedJob | undefined {
  if (!job) return undefined;
  if (!QUEUE_NAME.test(job.queue) || !QUEUE_NAME.test(job.group)) {
    issues.push({ path: 'enqueue.queue', message: 'queue and group are 1-32 of a-z 0-9 -' });
  }
  if (!IDEMPOTENCY_KEY.test(job.id)) issues.push({ path: 'enqueue.id', message: 'invalid job id' });
  // 0 refuses every job (a partition whose share of the bound is taken elsewhere)
  if (!Number.isSafeInteger(job.maxWaiting) || job.maxWaiting < 0) {
    issues.push({ path: 'enqueue.maxWaiting', message: 'an integer >= 0' });
  }
  const found = jsonIssues(job.data, 'enqueue.data');
  issues.push(...found);
  return found.length ? undefined : { ...job, data: JSON.stringify(job.data), meta };
}

/**
 * `value` as JSON text, or '' with the issues found: what would not survive a JSON round trip,
 * or a text larger than its limit (`[setting name, bytes]`).
 */
function serialised(
  value: unknown,
  path: string,
  [setting, maxBytes]: readonly [string, number],
  issues: Issue[],
): string {
  const found = jsonIssues(value, path);
  issues.push(...found);
  if (found.length > 0) return '';
  const text = JSON.stringify(value);
  const size = byteLength(text);
  if (size > maxBytes) {
    issues.push({ path, message: `is ${size} bytes, more than ${setting} (${maxBytes})` });
  }
  return text;
}

/** Checks a stream id (SPEC.md §4), throwing `ValidationError`. */
export function assertStreamId(streamId: unknown): asserts streamId is string {
  if (typeof streamId !== 'string' || !STREAM_ID_PATTERN.test(streamId)) {
    throw new ValidationError(
      `invalid stream id ${JSON.stringify(streamId)}: expected <kind>-<id>, e.g. trainer-ash, with 1-128 characters of A-Z a-z 0-9 . _ : - after the dash`,
      [{ path: 'streamId', message: 'invalid stream id' }],
    );
  }
}

/** A stream read's `fromVersion`, checked: an integer >= 0, or undefined. */
export function fromVersionOf(options: { readonly fromVersion?: number }): number | undefined {
  const from = options.fromVersion;
  if (from !== undefined && (!Number.isSafeInteger(from) || from < 0)) {
    throw new ValidationError('fromVersion must be an integer >= 0', [
      { path: 'fromVersion', message: 'must be an integer >= 0' },
    ]);
  }
  return from;
}

/** Checks an idempotency key, throwing `ValidationError`. */
export function assertIdempotencyKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new ValidationError(
      `invalid idempotency key ${JSON.stringify(key)}: 1-256 characters of A-Z a-z 0-9 . _ : / -`,
      [{ path: 'idempotencyKey', message: 'invalid idempotency key' }],
    );
  }
}

/** Validates everything about an append and serialises it; throws one `ValidationError` listing every problem. */
export function prepareAppend(
  settings: StoreSettings,
  streamId: string,
  events: readonly NewEvent[],
  options: AppendOptions = {},
): PreparedAppend {
  assertStreamId(streamId);
  if (options.idempotencyKey !== undefined) assertIdempotencyKey(options.idempotencyKey);
  const issues: Issue[] = [];
  const expected = expectedOf(options.expectedVersion ?? ANY, issues);
  if (!Array.isArray(events) || events.length === 0) {
    issues.push({ path: 'events', message: 'at least one event is required' });
  } else if (events.length > MAX_EVENTS_PER_APPEND) {
    issues.push({ path: 'events', message: `at most ${MAX_EVENTS_PER_APPEND} events per append` });
  }
  const baseMeta = metadataIssues(options.metadata, 'metadata', issues);
  const timestamp = new Date().toISOString();
  const prepared = (Array.isArray(events) ? events : []).map((event, i) =>
    prepareEvent(settings, event, `events[${i}]`, issues, {
      timestamp,
      correlationId: options.idempotencyKey,
      ...baseMeta,
    }),
  );
  const trace = baseMeta.traceparent ?? '';
  const notifications = (options.notifications ?? []).map((n, i) => ({
    ...prepareNotification(settings, n, `notifications[${i}]`, issues),
    trace,
  }));
  const resultJson =
    options.result === undefined
      ? ''
      : serialised(options.result, 'result', ['MAX_EVENT_BYTES', settings.maxEventBytes], issues);
  if (
    options.replyChannel !== undefined &&
    (typeof options.replyChannel !== 'string' || !options.replyChannel)
  ) {
    issues.push({ path: 'replyChannel', message: 'must be a non-empty string' });
  }
  const job = prepareJob(options.enqueue, prepared[0]?.meta ?? '{}', issues);
  const error = ValidationError.fromIssues(`append to ${streamId} refused`, issues);
  if (error) throw error;
  return {
    ...(job ? { job } : {}),
    streamId,
    expected,
    idempotencyKey: options.idempotencyKey ?? '',
    resultJson,
    resultDerived: options.resultDerived === true,
    replyChannel: options.replyChannel ?? '',
    events: prepared,
    notifications,
  };
}

function expectedOf(expected: ExpectedVersion, issues: Issue[]): PreparedAppend['expected'] {
  if (expected === ANY) return { kind: 'any', version: 0 };
  if (expected === NO_STREAM) return { kind: 'no_stream', version: 0 };
  if (expected === STREAM_EXISTS) return { kind: 'exists', version: 0 };
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) {
    return expected === 0
      ? { kind: 'no_stream', version: 0 }
      : { kind: 'exact', version: expected };
  }
  issues.push({
    path: 'expectedVersion',
    message: `must be an integer >= 0, "${ANY}", "${NO_STREAM}" or "${STREAM_EXISTS}"`,
  });
  return { kind: 'any', version: 0 };
}

type MetaInput = Partial<Omit<EventMetadata, 'serverId'>>;

function metadataIssues(meta: unknown, path: string, issues: Issue[]): MetaInput {
  if (meta === undefined) return {};
  if (!isJsonObject(meta)) {
    issues.push({ path, message: 'must be an object' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const field of META_FIELDS) {
    const value = meta[field];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      issues.push({ path: `${path}.${field}`, message: 'must be a string of 1-256 characters' });
    } else out[field] = value;
  }
  return out;
}

function prepareEvent(
  settings: StoreSettings,
  event: NewEvent,
  path: string,
  issues: Issue[],
  defaults: MetaInput,
): PreparedEvent {
  if (!isJsonObject(event)) {
    issues.push({ path, message: 'must be an object with type and data' });
    const none = { id: '', type: '', schemaVersion: 1, data: '', meta: '', dataValue: null };
    return { ...none, metadata: { correlationId: '', serverId: '', timestamp: '' } };
  }
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type)) {
    issues.push({
      path: `${path}.type`,
      message: 'must be 1-128 characters: a letter, then letters, digits, . _ -',
    });
  }
  const id = event.id ?? uuidv4();
  if (typeof id !== 'string' || !EVENT_ID.test(id)) {
    issues.push({ path: `${path}.id`, message: 'must be 1-128 characters of A-Z a-z 0-9 . _ : -' });
  }
  const schemaVersion = event.schemaVersion ?? 1;
  if (!Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
    issues.push({ path: `${path}.schemaVersion`, message: 'must be an integer >= 1' });
  }
  let data = '';
  if (event.data === undefined) {
    issues.push({ path: `${path}.data`, message: 'is required (use null for no data)' });
  } else {
    const limit = ['MAX_EVENT_BYTES', settings.maxEventBytes] as const;
    data = serialised(event.data, `${path}.data`, limit, issues);
  }
  const own = metadataIssues(event.metadata, `${path}.metadata`, issues);
  const meta: EventMetadata = {
    ...defaults,
    ...own,
    correlationId: own.correlationId ?? defaults.correlationId ?? String(id),
    timestamp: own.timestamp ?? defaults.timestamp ?? new Date().toISOString(),
    serverId: settings.serverId,
  };
  return {
    id: String(id),
    type: String(event.type),
    schemaVersion,
    data,
    meta: JSON.stringify(meta),
    dataValue: event.data,
    metadata: meta,
  };
}

function prepareNotification(
  settings: StoreSettings,
  n: NotificationRecord,
  path: string,
  issues: Issue[],
): Omit<PreparedNotification, 'trace'> {
  const empty: Omit<PreparedNotification, 'trace'> = {
    method: '',
    params: '',
    target: 'broadcast',
    targetIds: '',
    topic: '',
  };
  if (!isJsonObject(n)) {
    issues.push({ path, message: 'must be an object' });
    return empty;
  }
  if (typeof n.method !== 'string' || n.method.length > 128 || !METHOD.test(n.method)) {
    issues.push({
      path: `${path}.method`,
      message: 'must be a method name such as position.update',
    });
  }
  let params = '';
  if (!isJsonObject(n.params))
    issues.push({ path: `${path}.params`, message: 'must be an object' });
  else {
    const limit = ['MAX_NOTIFICATION_BYTES', settings.maxNotificationBytes] as const;
    params = serialised(n.params, `${path}.params`, limit, issues);
  }
  const ids = Array.isArray(n.targetIds) ? n.targetIds : [];
  if (!Array.isArray(n.targetIds))
    issues.push({ path: `${path}.targetIds`, message: 'must be an array' });
  if (ids.some((id) => typeof id !== 'string' || !IDENTIFIER.test(id))) {
    issues.push({
      path: `${path}.targetIds`,
      message: 'ids are 1-128 characters of A-Z a-z 0-9 . _ : -',
    });
  }
  if (n.target === 'broadcast') {
    if (ids.length > 0)
      issues.push({ path: `${path}.targetIds`, message: 'must be empty for broadcast' });
  } else if (n.target === 'user' || n.target === 'group') {
    if (ids.length === 0)
      issues.push({ path: `${path}.targetIds`, message: `at least one ${n.target} id` });
  } else {
    issues.push({ path: `${path}.target`, message: 'must be user, group or broadcast' });
  }
  if (
    n.topic !== undefined &&
    (typeof n.topic !== 'string' || n.topic.length > 256 || !TOPIC.test(n.topic))
  ) {
    issues.push({
      path: `${path}.topic`,
      message: 'must be .-separated tokens of A-Z a-z 0-9 _ : -',
    });
  }
  return {
    method: n.method,
    params,
    target: n.target,
    targetIds: ids.join(','),
    topic: n.topic ?? '',
  };
}
