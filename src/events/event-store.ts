import type { ResponseBudget } from './byte-budget.js';
import type {
  EventMetadata,
  ExpectedVersion,
  Json,
  NewEvent,
  NotificationRecord,
  RecordedEvent,
  WrittenNotification,
} from './envelope.js';
import type { Appended, Outcome } from './outcome.js';

export type { Appended, Outcome } from './outcome.js';

/** Options of one append. Everything is validated before anything is written. */
export interface AppendOptions {
  /** Default `ANY`. A mismatch throws `ConcurrencyError` and writes nothing. */
  readonly expectedVersion?: ExpectedVersion;
  /**
   * The command id or step key. Checked before any write: a key already used writes nothing and
   * returns the first outcome (`duplicate: true`). Remembered `COMMAND_DEDUP_TTL_S`.
   */
  readonly idempotencyKey?: string;
  /** Stored with the outcome under the idempotency key and handed back to a repeat. */
  readonly result?: Json;
  /**
   * The result is derived again from the events (`CommandDefinition.resultOfEvents`): the Redis
   * store's command record leaves it out (it is still in the first answer).
   */
  readonly resultDerived?: boolean;
  /** Metadata for every event of the append (an event's own `metadata` wins). */
  readonly metadata?: Partial<Omit<EventMetadata, 'serverId'>>;
  /** Written to the notifications stream in the same atomic step as the events. */
  readonly notifications?: readonly NotificationRecord[];
  /** Publish the idempotency key on this channel once the outcome is recorded (command replies). */
  readonly replyChannel?: string;
  /**
   * The command entry (`{sc}:cmd`, group `handlers`) this append acknowledges in the same atomic
   * step, so a command is never committed and left unacknowledged (the Redis store; the memory
   * store has no entries to acknowledge).
   */
  readonly acknowledge?: string;
  /**
   * Queues a job in the same atomic step (DESIGN.md §7: a deployment is never started without its
   * job). Refused with `OverloadedError`, writing nothing, when `maxWaiting` jobs already wait.
   */
  readonly enqueue?: JobToQueue;
}

/** A job queued by an append on `{sc}:jobs:<queue>` (consumer group `group`). */
export interface JobToQueue {
  /** `deploy` → `{sc}:jobs:deploy`. */
  readonly queue: string;
  readonly group: string;
  /** The job's id (e.g. the deployment id). */
  readonly id: string;
  readonly type: string;
  readonly data: Json;
  /** Jobs not yet taken by any consumer, at most. */
  readonly maxWaiting: number;
  /** Names the queue in the refusal: `<label> queue is full` (default `the <queue>`). */
  readonly label?: string;
}

/** What `append` returns: the events written, or the outcome recorded by the first use of the key. */
export type AppendResult =
  | (Appended & {
      readonly duplicate: false;
      readonly events: readonly RecordedEvent[];
      readonly notifications: readonly WrittenNotification[];
    })
  | { readonly duplicate: true; readonly outcome: Outcome };

/**
 * Where an idempotency key's outcome lives: with partitions, in the partition of the stream its
 * command (or step) targets (DESIGN.md §8). Needed to record one there; single-partition stores
 * ignore it.
 */
export interface GetOutcomeOptions {
  /** The stream the key's command or step targets. */
  readonly streamId?: string;
}

/** Options of `recordOutcome`. */
export interface RecordOutcomeOptions extends GetOutcomeOptions {
  readonly replyChannel?: string;
  /** The command entry acknowledged with the outcome (see `AppendOptions.acknowledge`). */
  readonly acknowledge?: string;
}

/** Reads a page of one stream. */
export interface ReadStreamOptions {
  /** First version to return: default 1 forwards, the last version backwards. */
  readonly fromVersion?: number;
  readonly direction?: 'forward' | 'backward';
  /** Default 100, at most 1000. */
  readonly limit?: number;
  /** Stops the page short (`isEnd: false`) before the event that does not fit. */
  readonly budget?: ResponseBudget;
}

/** A page of one stream. */
export interface StreamPage {
  readonly events: readonly RecordedEvent[];
  /** Pass as `fromVersion` to read the next page in the same direction. */
  readonly nextVersion: number;
  /** No more events in this direction (now). */
  readonly isEnd: boolean;
}

/** Reads a page of the global log. */
export interface ReadAllOptions {
  /**
   * Exclusive; `START` (`"0"`) reads from the beginning. A `nextPosition` or an event's
   * `globalPosition` (with partitions also the whole-log cursor of log-cursor.ts).
   */
  readonly after?: string;
  /** Default 100, at most 1000. */
  readonly limit?: number;
  /** Only these event types (the page may then hold fewer than `limit` events). */
  readonly types?: readonly string[];
  /** Stops the page short (`isEnd: false`) before the event that does not fit. */
  readonly budget?: ResponseBudget;
}

/** A page of the global log. */
export interface LogPage {
  readonly events: readonly RecordedEvent[];
  /** Pass as `after` to continue (opaque: with partitions the whole-log cursor). */
  readonly nextPosition: string;
  readonly isEnd: boolean;
}

/** Follows the global log from a position. */
export interface SubscribeAllOptions {
  /** Exclusive start position; `START` for the beginning. */
  readonly after?: string;
  /** Most events handed to the handler at once (default 500). */
  readonly batchSize?: number;
}

/** A running `subscribeAll`. */
export interface Subscription {
  /** The position of the last event handed to the handler (the `after` it started from at first). */
  readonly position: string;
  /** Stops reading; resolves once the handler is no longer running. Idempotent. */
  close(): Promise<void>;
  /** Resolves when closed; rejects with the handler's error if the handler threw (reading stops). */
  readonly done: Promise<void>;
}

/** The position before the first event of the global log. */
export const START = '0';

/**
 * The event store port. Adapters: Redis (Lua scripts), memory. Contract (test/contract/event-store):
 * - `append` is atomic: the events, the global log entries, the notifications, the outcome of the
 *   idempotency key and the reply are all written, or none is.
 * - Versions in a stream are 1..n without gaps; global positions follow append order across streams.
 * - Bad input throws `ValidationError` and writes nothing; a version mismatch throws
 *   `ConcurrencyError` (with both versions) and writes nothing.
 * - `subscribeAll` hands over every event after its start exactly once, in global order, catching
 *   up and then following live with no gap or duplicate at the seam.
 */
export interface EventStore {
  append(
    streamId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult>;
  /** Records a non-append outcome (a domain error) for a key, unless one is recorded already. */
  recordOutcome(
    idempotencyKey: string,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
    options?: RecordOutcomeOptions,
  ): Promise<{ readonly recorded: boolean; readonly outcome: Outcome }>;
  /**
   * The outcome recorded for a key, if it is still remembered (with partitions and no
   * `streamId`: looked for in every partition).
   */
  getOutcome(idempotencyKey: string, options?: GetOutcomeOptions): Promise<Outcome | undefined>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StreamPage>;
  readAll(options?: ReadAllOptions): Promise<LogPage>;
  /** The position of the newest event in the global log (`START` when it is empty). */
  head(): Promise<string>;
  subscribeAll(
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  ): Subscription;
  /** Closes the store's subscriptions; the Redis connection belongs to whoever made it. */
  close(): Promise<void>;
  /**
   * False when `append` cannot acknowledge `AppendOptions.acknowledge` in its atomic step
   * (EventStoreDB): the worker acknowledges the entry once the append returned. Default true.
   */
  readonly acknowledgesEntries?: boolean;
  /**
   * EventStoreDB only (DESIGN.md §4): the outcome of an append already in `streamId` whose first
   * event has id `firstEventId`, looked for in the stream's tail back to `since` (an ISO time) —
   * what the runtime asks before committing a redelivered command again, since EventStoreDB
   * deduplicates event ids only at the same expected version. Undefined when not there.
   */
  findAppended?(
    streamId: string,
    firstEventId: string,
    since?: string,
  ): Promise<Appended | undefined>;
}
