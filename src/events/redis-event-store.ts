import { ConcurrencyError, ValidationError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { BatchCommitter } from './batch-committer.js';
import { ENVELOPE_BYTES, type ResponseBudget } from './byte-budget.js';
import { closeOnce } from './close-once.js';
import { CommandRecords } from './command-records.js';
import type { NewEvent, RecordedEvent, WrittenNotification } from './envelope.js';
import type {
  AppendOptions,
  AppendResult,
  EventStore,
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
import type { Keys } from './keys.js';
import { LogTiers, type TierSettings } from './log-tiers.js';
import { type ReplyValue, replyNumber, replyString, replyStrings } from './lua-script.js';
import { PositionFormat } from './partition-positions.js';
import {
  assertIdempotencyKey,
  assertStreamId,
  type PreparedAppend,
  prepareAppend,
  queueFull,
  type StoreSettings,
} from './prepare-append.js';
import type { RedisClient } from './redis-connection.js';
import { pageLimit, RedisLogFollower } from './redis-log-follower.js';

/** Most log entries one `readAll` call scans when filtering by type. */
const MAX_SCAN_PER_READ = 10_000;
/** Most entries fetched per round trip of a read under a budget. */
const READ_CHUNK = 64;

/** What an append wrote: its versions, the events' positions, the notifications' ids. */
interface Written {
  readonly first: number;
  readonly last: number;
  readonly positions: readonly string[];
  readonly notifications: readonly WrittenNotification[];
}

/**
 * An append's result in a commit batch: what it wrote, or the outcome of a used key
 * (`duplicate`), or the stream's actual version (`conflict`), or the waiting jobs (queue full).
 */
function decodeAppend(
  result: readonly ReplyValue[],
  p: PreparedAppend,
  options: AppendOptions,
): Written | { readonly stored: string } {
  const [code, ...values] = result;
  switch (code) {
    case 1: {
      const n = p.events.length;
      const ids = replyStrings(values, 2 + n);
      const notifications: WrittenNotification[] = [];
      for (let i = 0; i + 1 < ids.length; i += 2) {
        notifications.push({ id: ids[i]!, prevId: ids[i + 1]! });
      }
      return {
        first: replyNumber(values, 0),
        last: replyNumber(values, 1),
        positions: replyStrings(values.slice(0, 2 + n), 2),
        notifications,
      };
    }
    case 0:
      return { stored: replyString(values, 0) };
    case -1:
      throw new ConcurrencyError(
        p.streamId,
        options.expectedVersion ?? 'any',
        replyNumber(values, 0),
      );
    case -2:
      if (!p.job) throw new Error(`commit-batch refused an append: ${String(values[0])}`);
      throw queueFull(p.job, replyNumber(values, 1));
    default:
      throw new Error(`commit-batch replied ${JSON.stringify(result)} for an append`);
  }
}

/** Settings of one Redis store: the adapters' common ones and its partition. */
export interface RedisStoreSettings extends StoreSettings {
  /**
   * The partition this store serves (PARTITIONS > 1): its positions are `<p>:<entry id>` in
   * everything it returns and it accepts only those back. Unset with one partition: bare entry ids.
   */
  readonly partition?: number;
  /**
   * Set when retention trims this partition (ARCHIVE_URL or LOG_RETENTION_MS): reads find trimmed
   * history in its archive (log-tiers.ts). Unset: nothing is trimmed, reads are Redis's alone.
   */
  readonly tiers?: TierSettings;
}

/**
 * Redis-backed `EventStore` (DESIGN.md §1–§3, G1/G3/G5): appends and recorded answers asked for
 * at the same time are committed together by one Lua script call. It serves one partition's keys;
 * PartitionedEventStore composes one per partition.
 */
export class RedisEventStore implements EventStore {
  private readonly followers = new Set<RedisLogFollower>();
  /** Appends and answers asked for in one turn share one script call (group commit). */
  private readonly committer: BatchCommitter;
  private readonly positions: PositionFormat;
  /** Reads command records back into outcomes (by reference to their events). */
  private readonly records: CommandRecords;
  /** Reads over Redis and, for trimmed history, the archive. */
  private readonly tiers: LogTiers;

  /**
   * @param redis a connected client; the store does not close it.
   * @param keys the key builder of the `KEY_PREFIX`.
   * @param settings limits and identity (SPEC.md §2).
   * @param logger where subscription loops report Redis errors they retry.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly settings: RedisStoreSettings,
    private readonly logger: Logger = silentLogger,
  ) {
    this.positions = new PositionFormat(settings.partition);
    this.tiers = new LogTiers(redis, keys, settings.tiers);
    this.committer = new BatchCommitter(redis, keys, settings, this.positions);
    this.records = new CommandRecords(() => this);
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const p = prepareAppend(this.settings, streamId, events, options);
    const result = await this.committer.commit({
      kind: 'append',
      prepared: p,
      ...(options.acknowledge ? { acknowledge: options.acknowledge } : {}),
    });
    const written = decodeAppend(result, p, options);
    if ('stored' in written)
      return { duplicate: true, outcome: await this.outcomeOf(written.stored) };
    const { first, last, positions, notifications } = written;
    const recorded: RecordedEvent[] = p.events.map((e, i) => ({
      id: e.id,
      type: e.type,
      schemaVersion: e.schemaVersion,
      streamId,
      version: first + i,
      globalPosition: this.positions.out(positions[i]!),
      data: e.dataValue,
      metadata: e.metadata,
    }));
    return {
      duplicate: false,
      kind: 'appended',
      streamId,
      firstVersion: first,
      lastVersion: last,
      globalPositions: positions.map((id) => this.positions.out(id)),
      ...(options.result !== undefined ? { result: options.result } : {}),
      events: recorded,
      notifications,
    };
  }

  async recordOutcome(
    idempotencyKey: string,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
    options: RecordOutcomeOptions = {},
  ): Promise<{ recorded: boolean; outcome: Outcome }> {
    assertIdempotencyKey(idempotencyKey);
    const json = JSON.stringify(outcome);
    const [code, stored] = await this.committer.commit({
      kind: 'answer',
      key: idempotencyKey,
      outcome: json,
      replyChannel: options.replyChannel ?? '',
      ...(options.acknowledge ? { acknowledge: options.acknowledge } : {}),
    });
    if (code === 1) return { recorded: true, outcome };
    if (code === 0 && typeof stored === 'string') {
      return { recorded: false, outcome: await this.outcomeOf(stored) };
    }
    throw new Error(`commit-batch replied ${String(code)} for a recorded answer`);
  }

  async getOutcome(idempotencyKey: string): Promise<Outcome | undefined> {
    assertIdempotencyKey(idempotencyKey);
    const stored = await this.redis.get(this.keys.done(idempotencyKey));
    return stored === null ? undefined : this.records.outcomeOf(stored);
  }

  /** The outcome of a used key's record (never `sent`: the script reads that as unused). */
  private async outcomeOf(stored: string): Promise<Outcome> {
    const outcome = await this.records.outcomeOf(stored);
    if (!outcome) throw new Error('commit-batch took a command record that is only sent for used');
    return outcome;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamPage> {
    assertStreamId(streamId);
    const limit = pageLimit(options.limit);
    const backward = options.direction === 'backward';
    const from = options.fromVersion;
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 0)) {
      throw new ValidationError('fromVersion must be an integer >= 0', [
        { path: 'fromVersion', message: 'must be an integer >= 0' },
      ]);
    }
    const start = backward ? (from ?? 0) : Math.max(from ?? 1, 1);
    const page = (events: RecordedEvent[], isEnd: boolean): StreamPage => {
      const last = events.at(-1);
      const nextVersion = last ? (backward ? last.version - 1 : last.version + 1) : start;
      return { events, nextVersion: Math.max(nextVersion, 0), isEnd };
    };
    const events: RecordedEvent[] = [];
    let cursor = backward ? from : start;
    for (;;) {
      const count = Math.min(limit - events.length + 1, this.chunkOf(options.budget));
      const items = await this.tiers.streamFrom(streamId, cursor, backward, count);
      for (const item of items) {
        if (events.length === limit) return page(events, false);
        if (options.budget && !options.budget.take(item.bytes)) return page(events, false);
        events.push(this.withPosition(item.event));
      }
      if (items.length < count) return page(events, true);
      const version = events.at(-1)!.version;
      cursor = backward ? version - 1 : version + 1;
    }
  }

  async readAll(options: ReadAllOptions = {}): Promise<LogPage> {
    const limit = pageLimit(options.limit);
    let after = this.positions.in(options.after);
    const page = (isEnd: boolean): LogPage => ({
      events,
      nextPosition: this.positions.out(after),
      isEnd,
    });
    const types = options.types ? new Set(options.types) : undefined;
    const events: RecordedEvent[] = [];
    let scanned = 0;
    for (;;) {
      const count = types
        ? Math.min(1000, this.chunkOf(options.budget), MAX_SCAN_PER_READ - scanned)
        : Math.min(limit - events.length + 1, this.chunkOf(options.budget));
      const items = await this.tiers.logAfter(after, count);
      for (const item of items) {
        if (events.length === limit) return page(false);
        const wanted = !types || types.has(item.event.type);
        if (wanted && options.budget && !options.budget.take(item.bytes)) return page(false);
        after = item.id;
        scanned += 1;
        if (wanted) events.push(this.withPosition(item.event));
      }
      if (items.length < count) return page(true);
      if (scanned >= MAX_SCAN_PER_READ) return page(false);
    }
  }

  /**
   * Entries to fetch at once: a read under a budget fetches no more than could fit in what is left
   * if every event were as large as allowed, so a page stopped short never fetched much past it.
   */
  private chunkOf(budget: ResponseBudget | undefined): number {
    if (!budget) return Number.POSITIVE_INFINITY;
    const largest = this.settings.maxEventBytes + ENVELOPE_BYTES;
    return Math.max(1, Math.min(READ_CHUNK, Math.floor(budget.left / largest)));
  }

  async head(): Promise<string> {
    const [newest] = await this.redis.xrevrange(this.keys.all, '+', '-', 'COUNT', 1);
    return newest ? this.positions.out(newest[0]) : START;
  }

  /** The event with its position as clients see it (`<p>:<id>` with partitions). */
  private withPosition(event: RecordedEvent): RecordedEvent {
    if (this.positions.partition === undefined) return event;
    return { ...event, globalPosition: this.positions.out(event.globalPosition) };
  }

  subscribeAll(
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  ): Subscription {
    const follower = new RedisLogFollower(
      this.redis,
      (conn, after, count, blockMs) => this.tiers.follow(conn, after, count, blockMs),
      options,
      handler,
      this.logger,
      this.positions,
    );
    this.followers.add(follower);
    follower.done.then(
      () => this.followers.delete(follower),
      () => this.followers.delete(follower),
    );
    return follower;
  }

  readonly close = closeOnce(async (): Promise<void> => {
    await Promise.allSettled([...this.followers].map((f) => f.close()));
  });
}
