/**
 * The `EventStore` over PARTITIONS partitions (DESIGN.md §8): one single-partition store per
 * partition (each writing positions `<p>:<id>`), composed here. Everything about one stream —
 * append, readStream, and the outcome of a command or step key, which lives in its stream's
 * partition — goes to that stream's partition. The whole log is merged: `readAll` pages through
 * every partition with the cursor of log-cursor.ts (each partition in order, across partitions by
 * time), `subscribeAll` follows every partition (each in order; the handler runs one call at a
 * time).
 */
import { ENVELOPE_BYTES, eventBytes, type ResponseBudget } from './byte-budget.js';
import { closeOnce } from './close-once.js';
import type { NewEvent, RecordedEvent } from './envelope.js';
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
} from './event-store.js';
import { START } from './event-store.js';
import {
  compareMerged,
  decodeCursor,
  type EntryTime,
  encodeCursor,
  entryTime,
} from './log-cursor.js';
import { parsePartitionPosition, partitionPosition } from './partition-positions.js';
import { assertStreamId } from './prepare-append.js';
import { pageLimit } from './redis-log-follower.js';

/** Most events fetched from one partition per read of a merged page. */
const FETCH_MAX = 64;

/** One partition's share of a merged `readAll`. */
interface Lane {
  readonly partition: number;
  /** Fetched and not yet in the page. */
  buffer: RecordedEvent[];
  at: number;
  /** Where the next fetch starts (past what was fetched, including skipped types). */
  next: string;
  isEnd: boolean;
  /** The partition's position in the page's cursor. */
  emitted: string;
}

/** The entry id of a partition store's position (`<p>:<id>`, or START). */
function entryIdOf(position: string): string {
  if (position === START) return '0-0';
  const parsed = parsePartitionPosition(position);
  if (!parsed) throw new Error(`a partition store returned the position ${position}`);
  return parsed.id;
}

function timeOf(event: RecordedEvent): EntryTime {
  const time = entryTime(entryIdOf(event.globalPosition));
  if (!time) throw new Error(`a partition store returned the position ${event.globalPosition}`);
  return time;
}

/** Settings of the facade. */
export interface PartitionedStoreSettings {
  /** MAX_EVENT_BYTES: bounds what a read under a byte budget fetches at once. */
  readonly maxEventBytes: number;
}

/** The partitioned `EventStore` (see the module comment). */
export class PartitionedEventStore implements EventStore {
  /**
   * @param partitions the store of each partition, in partition order, each writing `<p>:<id>`.
   * @param partitionOf the partition of a stream (`Partitioning.of`).
   */
  constructor(
    readonly partitions: readonly EventStore[],
    private readonly partitionOf: (streamId: string) => number,
    private readonly settings: PartitionedStoreSettings,
  ) {}

  /** The store of `streamId`'s partition. */
  storeOf(streamId: string): EventStore {
    assertStreamId(streamId);
    return this.partitions[this.partitionOf(streamId)]!;
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    return this.storeOf(streamId).append(streamId, events, options);
  }

  async recordOutcome(
    idempotencyKey: string,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
    options: RecordOutcomeOptions = {},
  ): Promise<{ readonly recorded: boolean; readonly outcome: Outcome }> {
    if (options.streamId === undefined) {
      throw new Error(
        `recordOutcome(${idempotencyKey}) needs options.streamId with PARTITIONS > 1: an outcome lives in its stream's partition`,
      );
    }
    return this.storeOf(options.streamId).recordOutcome(idempotencyKey, outcome, options);
  }

  /** Without `streamId`, looks in every partition (a GET each, in parallel). */
  async getOutcome(
    idempotencyKey: string,
    options: GetOutcomeOptions = {},
  ): Promise<Outcome | undefined> {
    if (options.streamId !== undefined) {
      return this.storeOf(options.streamId).getOutcome(idempotencyKey, options);
    }
    const found = await Promise.all(this.partitions.map((s) => s.getOutcome(idempotencyKey)));
    return found.find((outcome) => outcome !== undefined);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<StreamPage> {
    return this.storeOf(streamId).readStream(streamId, options);
  }

  /**
   * A page of the merged log: partitions are read a chunk at a time and merged by time (entry
   * millisecond, then partition); the page stops at `limit`, at the budget, or where a partition
   * scanned its most entries for `types` without a match (`isEnd: false`: continue from
   * `nextPosition`).
   */
  async readAll(options: ReadAllOptions = {}): Promise<LogPage> {
    const limit = pageLimit(options.limit);
    const lanes: Lane[] = decodeCursor(options.after, this.partitions.length).map((id, p) => ({
      partition: p,
      buffer: [],
      at: 0,
      next: id,
      isEnd: false,
      emitted: id,
    }));
    const events: RecordedEvent[] = [];
    const page = (isEnd: boolean): LogPage => ({
      events,
      nextPosition: encodeCursor(lanes.map((l) => l.emitted)),
      isEnd,
    });
    for (;;) {
      const starving = lanes.filter((l) => l.at === l.buffer.length && !l.isEnd);
      if (starving.length > 0) {
        const size = this.fetchSize(limit - events.length, starving.length, options.budget);
        await Promise.all(starving.map((lane) => this.fetch(lane, size, options)));
        // a partition that scanned its most entries for `types` and found none ends the page
        if (starving.some((l) => l.buffer.length === 0 && !l.isEnd)) return page(false);
        continue;
      }
      const lane = earliest(lanes);
      if (!lane) return page(true);
      if (events.length === limit) return page(false);
      const event = lane.buffer[lane.at]!;
      if (options.budget && !options.budget.take(eventBytes(event))) return page(false);
      events.push(event);
      lane.at += 1;
      lane.emitted = lane.at === lane.buffer.length ? lane.next : entryIdOf(event.globalPosition);
    }
  }

  /** Events to fetch from each starving partition. */
  private fetchSize(wanted: number, lanes: number, budget: ResponseBudget | undefined): number {
    let size = Math.min(FETCH_MAX, Math.ceil(wanted / lanes) + 1);
    if (budget) {
      const largest = this.settings.maxEventBytes + ENVELOPE_BYTES;
      size = Math.min(size, Math.max(1, Math.floor(budget.left / largest)));
    }
    return Math.max(1, size);
  }

  private async fetch(lane: Lane, limit: number, options: ReadAllOptions): Promise<void> {
    const store = this.partitions[lane.partition]!;
    const fetched = await store.readAll({
      after: partitionPosition(lane.partition, lane.next),
      limit,
      ...(options.types ? { types: options.types } : {}),
    });
    lane.buffer = [...fetched.events];
    lane.at = 0;
    lane.next = entryIdOf(fetched.nextPosition);
    lane.isEnd = fetched.isEnd;
    if (lane.buffer.length === 0) lane.emitted = lane.next; // skipped entries of other types
  }

  /** The cursor of every partition's newest event (`START` when the whole log is empty). */
  async head(): Promise<string> {
    const heads = await Promise.all(this.partitions.map((s) => s.head()));
    return encodeCursor(heads.map(entryIdOf));
  }

  /**
   * Follows every partition from `options.after` (a cursor, a globalPosition or START), each on a
   * follower of its own: per-partition order, no order across partitions. The handler runs one
   * call at a time; `position` is the cursor of what it was handed.
   */
  subscribeAll(
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  ): Subscription {
    const start = decodeCursor(options.after, this.partitions.length);
    let turn: Promise<unknown> = Promise.resolve();
    const oneAtATime = (events: readonly RecordedEvent[]): Promise<void> => {
      const run = turn.then(() => handler(events));
      turn = run.catch(() => {});
      return run;
    };
    const subscriptions = this.partitions.map((store, p) =>
      store.subscribeAll(
        {
          ...options,
          after: start[p] === '0-0' ? START : partitionPosition(p, start[p]!),
        },
        oneAtATime,
      ),
    );
    const close = closeOnce(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close()));
    });
    const done = Promise.all(subscriptions.map((s) => s.done)).then(
      () => {},
      async (error: unknown) => {
        await close();
        throw error;
      },
    );
    return {
      get position() {
        return encodeCursor(subscriptions.map((s) => entryIdOf(s.position)));
      },
      close,
      done,
    };
  }

  readonly close = closeOnce(async (): Promise<void> => {
    await Promise.allSettled(this.partitions.map((s) => s.close()));
  });
}

/** The lane whose next event comes first in the merged log (none when every lane is drained). */
function earliest(lanes: readonly Lane[]): Lane | undefined {
  let best: Lane | undefined;
  let bestTime: EntryTime | undefined;
  for (const lane of lanes) {
    const event = lane.buffer[lane.at];
    if (!event) continue;
    const time = timeOf(event);
    if (!best || !bestTime || compareMerged(time, lane.partition, bestTime, best.partition) < 0) {
      best = lane;
      bestTime = time;
    }
  }
  return best;
}
