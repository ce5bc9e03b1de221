/**
 * The EventStoreDB event store (DESIGN.md §4): events, streams and `$all` in EventStoreDB through
 * `@eventstore/db-client`; everything EventStoreDB cannot write atomically with the events —
 * outcomes of idempotency keys, notifications, deployment jobs, replies — in Redis, written by the
 * notifier (notifier.ts) that follows `$all` from a fenced checkpoint. So an append here returns
 * once EventStoreDB has the events; its outcome, notifications and job follow when the notifier
 * reads them (the reply waits for that). Idempotency rests on the deterministic event ids the
 * runtime gives (EventStoreDB repeats an append of the same ids at the same expected revision
 * without writing) and on `findAppended`, which looks for an append in its stream's tail before
 * a redelivered command is committed again.
 */
import {
  type AllStreamResolvedEvent,
  BACKWARDS,
  END,
  ANY as ES_ANY,
  NO_STREAM as ES_NO_STREAM,
  START as ES_START,
  STREAM_EXISTS as ES_STREAM_EXISTS,
  type EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  type Position,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { FaultSwitch } from '../../commands/fault.js';
import { ConcurrencyError } from '../../errors.js';
import { fitting } from '../byte-budget.js';
import type { NewEvent, RecordedEvent } from '../envelope.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
  GetOutcomeOptions,
  LogPage,
  Outcome,
  ReadAllOptions,
  ReadStreamOptions,
  RecordOutcomeOptions,
  StreamPage,
  SubscribeAllOptions,
  Subscription,
} from '../event-store.js';
import { START } from '../event-store.js';
import type { Keys } from '../keys.js';
import { type Appended, appendedOf } from '../outcome.js';
import {
  assertStreamId,
  fromVersionOf,
  type PreparedAppend,
  prepareAppend,
  queueFull,
  type StoreSettings,
} from '../prepare-append.js';
import type { RedisClient } from '../redis-connection.js';
import type { RedisEventStore } from '../redis-event-store.js';
import { waitingJobs } from '../redis-job-count.js';
import { pageLimit } from '../redis-log-follower.js';
import {
  appendEffectsOf,
  comparePositions,
  effectsOf,
  isForeignEvent,
  parsePosition,
  positionText,
  recordedOf,
  storedMetadata,
} from './esdb-events.js';
import { followAll } from './follow-all.js';

/** Events read per round trip while paging `$all` past filtered events. */
const CHUNK = 500;
/** How far back `findAppended` looks before the command was sent (clock skew between machines). */
const LOOK_BACK_SKEW_MS = 5 * 60_000;
/** The most events `findAppended` reads back when it has no send time to stop at. */
const LOOK_BACK_MAX = 10_000;

/** The Redis side of the store: outcomes (recorded answers, the notifier's records) and jobs. */
export interface EsdbRedisSide {
  readonly redis: RedisClient;
  readonly keys: Keys;
  /** Records answers and reads outcomes (`{sc}:c:<digest>`), as the Redis store does. */
  readonly outcomes: Pick<RedisEventStore, 'recordOutcome' | 'getOutcome'>;
}

export class EsdbEventStore implements EventStore {
  /** The append cannot take the command entry's acknowledgement with it: the worker acks after. */
  readonly acknowledgesEntries = false;
  private readonly subscriptions = new Set<Subscription>();

  /**
   * `streamPrefix` (EVENTSTORE_STREAM_PREFIX, default ''): EventStoreDB streams are named
   * `<prefix><streamId>`, and only those are this store's — several deployments (or test runs)
   * can share one server, as KEY_PREFIX lets them share a Redis.
   */
  constructor(
    private readonly client: EventStoreDBClient,
    private readonly side: EsdbRedisSide,
    private readonly settings: StoreSettings,
    private readonly streamPrefix = '',
    /** The test-only fault switch (`exit-after-append`). */
    private readonly fault?: FaultSwitch,
  ) {}

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const p = prepareAppend(this.settings, streamId, events, options);
    if (p.idempotencyKey) {
      const previous = await this.side.outcomes.getOutcome(p.idempotencyKey);
      if (previous) return { duplicate: true, outcome: previous };
    }
    if (p.job) {
      // approximate (README): jobs of appends the notifier has not reached yet are not counted
      const waiting = await waitingJobs(
        this.side.redis,
        this.side.keys.jobs(p.job.queue),
        p.job.group,
      );
      if (waiting >= p.job.maxWaiting) throw queueFull(p.job, waiting);
    }
    const written = await this.write(p, options);
    if (this.fault?.hits('exit-after-append')) {
      this.fault.exit('exit-after-append', { streamId, key: p.idempotencyKey });
    }
    const outcome = appendedOf(
      written,
      options.result !== undefined ? JSON.parse(p.resultJson) : undefined,
    );
    return { duplicate: false, ...outcome, events: written, notifications: [] };
  }

  /** Appends with the expected revision; the events as written (positions read back if several). */
  private async write(p: PreparedAppend, options: AppendOptions): Promise<RecordedEvent[]> {
    const effects = effectsOf(p, this.settings.serverId);
    const last = p.events.length - 1;
    const stored = p.events.map((e, i) =>
      jsonEvent({
        id: e.id,
        type: e.type,
        data: e.dataValue as never,
        metadata: storedMetadata(e.metadata, e.schemaVersion, i === last ? effects : undefined),
      }),
    );
    let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
    try {
      result = await this.client.appendToStream(this.streamPrefix + p.streamId, stored, {
        expectedRevision: expectedRevisionOf(p.expected),
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      const actual = error.actualVersion;
      const version = typeof actual === 'bigint' ? Number(actual) + 1 : 0;
      throw new ConcurrencyError(p.streamId, options.expectedVersion ?? 'any', version);
    }
    const lastVersion = Number(result.nextExpectedRevision) + 1;
    const firstVersion = lastVersion - p.events.length + 1;
    if (p.events.length === 1 && result.position) {
      const e = p.events[0]!;
      return [
        {
          id: e.id,
          type: e.type,
          schemaVersion: e.schemaVersion,
          streamId: p.streamId,
          version: lastVersion,
          globalPosition: positionText(result.position),
          data: e.dataValue,
          metadata: e.metadata,
        },
      ];
    }
    // one append's events share a commit but not a prepare position: read them back
    const page = await this.readStream(p.streamId, {
      fromVersion: firstVersion,
      limit: p.events.length,
    });
    return [...page.events];
  }

  recordOutcome(
    idempotencyKey: string,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
    options?: RecordOutcomeOptions,
  ): Promise<{ readonly recorded: boolean; readonly outcome: Outcome }> {
    return this.side.outcomes.recordOutcome(idempotencyKey, outcome, options);
  }

  /** With one partition (EventStoreDB needs PARTITIONS=1) the key's record is in one place. */
  getOutcome(idempotencyKey: string, _options?: GetOutcomeOptions): Promise<Outcome | undefined> {
    return this.side.outcomes.getOutcome(idempotencyKey);
  }

  /**
   * The outcome of an append whose first event has id `firstEventId`, found in the tail of
   * `streamId` (newest first, back to `since` less a margin for clock skew, or LOOK_BACK_MAX
   * events): a redelivered command that EventStoreDB already holds is not decided again
   * (DESIGN.md §4). Undefined when the stream does not hold it.
   */
  async findAppended(
    streamId: string,
    firstEventId: string,
    since?: string,
  ): Promise<Appended | undefined> {
    const stopAt = since ? Date.parse(since) - LOOK_BACK_SKEW_MS : Number.NaN;
    let fromVersion: number | undefined;
    for (let seen = 0; seen < LOOK_BACK_MAX; ) {
      const page = await this.readStream(streamId, {
        direction: 'backward',
        limit: 100,
        ...(fromVersion === undefined ? {} : { fromVersion }),
      });
      for (const event of page.events) {
        if (event.id === firstEventId) return this.appendedFrom(event);
        if (Date.parse(event.metadata.timestamp) < stopAt) return undefined;
      }
      seen += page.events.length;
      if (page.isEnd || page.events.length === 0) return undefined;
      fromVersion = page.nextVersion;
    }
    return undefined;
  }

  /** The outcome of the append that starts with `first`: up to its last event (its effects). */
  private async appendedFrom(first: RecordedEvent): Promise<Appended> {
    const page = await this.readStream(first.streamId, { fromVersion: first.version, limit: 1000 });
    const end = page.events.findIndex((e) => appendEffectsOf(e) !== undefined);
    const events = page.events.slice(0, end === -1 ? 1 : end + 1);
    const result = appendEffectsOf(events.at(-1)!)?.result;
    return appendedOf(events, result ? JSON.parse(result) : undefined);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamPage> {
    assertStreamId(streamId);
    const limit = pageLimit(options.limit);
    const from = fromVersionOf(options);
    const backward = options.direction === 'backward';
    if (backward && from === 0) return { events: [], nextVersion: 0, isEnd: true };
    const start = backward ? from : Math.max(from ?? 1, 1);
    const candidates = await this.readRevisions(streamId, backward, start, limit + 1);
    const more = candidates.length > limit;
    const events = fitting(candidates.slice(0, limit), options.budget);
    const last = events.at(-1);
    const isEnd = events.length === Math.min(candidates.length, limit) && !more;
    if (backward) {
      return { events, nextVersion: last ? last.version - 1 : (from ?? 0), isEnd };
    }
    return { events, nextVersion: last ? last.version + 1 : (start as number), isEnd };
  }

  /** Up to `count` events of a stream from version `start` (undefined backwards: the newest). */
  private async readRevisions(
    streamId: string,
    backward: boolean,
    start: number | undefined,
    count: number,
  ): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    try {
      const read = this.client.readStream(this.streamPrefix + streamId, {
        direction: backward ? BACKWARDS : FORWARDS,
        fromRevision: start === undefined ? END : BigInt(start - 1),
        maxCount: count,
      });
      for await (const resolved of read) {
        if (resolved.event) events.push(recordedOf(resolved, this.streamPrefix));
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<LogPage> {
    const limit = pageLimit(options.limit);
    const after = parsePosition(options.after);
    const types = options.types ? new Set(options.types) : undefined;
    const events: RecordedEvent[] = [];
    let next = options.after ?? START;
    let from = after;
    for (;;) {
      const chunk = await this.readAllChunk(from);
      for (const { recorded, system } of chunk.events) {
        if (after && comparePositions(parsePosition(recorded.globalPosition)!, after) <= 0)
          continue;
        if (!system && (!types || types.has(recorded.type))) {
          if (events.length === limit) return { events, nextPosition: next, isEnd: false };
          if (options.budget && !fitting([recorded], options.budget).length) {
            return { events, nextPosition: next, isEnd: false };
          }
          events.push(recorded);
        }
        next = recorded.globalPosition;
      }
      if (chunk.end) return { events, nextPosition: next, isEnd: true };
      from = parsePosition(next);
    }
  }

  /** One forward read of `$all` from a position (inclusive), system events marked. */
  private async readAllChunk(from: Position | undefined) {
    const events: { recorded: RecordedEvent; system: boolean }[] = [];
    let read = 0;
    for await (const resolved of this.client.readAll({
      fromPosition: from ?? ES_START,
      direction: FORWARDS,
      maxCount: CHUNK,
    })) {
      read += 1;
      if (!resolved.event) continue;
      const system = isForeignEvent(resolved, this.streamPrefix);
      events.push({
        recorded: system
          ? systemMarker(resolved.event.position)
          : recordedOf(resolved, this.streamPrefix),
        system,
      });
    }
    return { events, end: read < CHUNK };
  }

  async head(): Promise<string> {
    let from: typeof END | Position = END;
    for (;;) {
      // read each page to its end: a read left unfinished keeps its call open (and dispose waits)
      const page: AllStreamResolvedEvent[] = [];
      for await (const resolved of this.client.readAll({
        fromPosition: from,
        direction: BACKWARDS,
        maxCount: CHUNK,
      })) {
        page.push(resolved);
      }
      const newest = page.find((r) => r.event && !isForeignEvent(r, this.streamPrefix));
      if (newest?.event) return positionText(newest.event.position);
      const oldest = page.at(-1)?.event;
      if (page.length < CHUNK || !oldest) return START;
      from = oldest.position; // backwards reads return what is before it
    }
  }

  subscribeAll(
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  ): Subscription {
    const after = parsePosition(options.after);
    const subscription = followAll(
      () =>
        this.client.subscribeToAll({
          fromPosition: after ?? ES_START,
          filter: this.streamPrefix
            ? streamNameFilter({ prefixes: [this.streamPrefix] })
            : excludeSystemEvents(),
        }),
      {
        after: options.after ?? START,
        batchSize: options.batchSize ?? 500,
        streamPrefix: this.streamPrefix,
        skip: (event) =>
          after !== undefined && comparePositions(parsePosition(event.globalPosition)!, after) <= 0,
      },
      handler,
      () => this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
  }
}

/** A system event's place in `$all`: only its position matters (paging past it). */
function systemMarker(position: { commit: bigint; prepare: bigint }): RecordedEvent {
  return {
    id: '',
    type: '$system',
    schemaVersion: 1,
    streamId: '$',
    version: 0,
    globalPosition: positionText(position),
    data: null,
    metadata: { correlationId: '', serverId: '', timestamp: '' },
  };
}

function expectedRevisionOf(expected: PreparedAppend['expected']) {
  switch (expected.kind) {
    case 'any':
      return ES_ANY;
    case 'no_stream':
      return ES_NO_STREAM;
    case 'exists':
      return ES_STREAM_EXISTS;
    default:
      return BigInt(expected.version - 1);
  }
}
