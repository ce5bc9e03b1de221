/**
 * Reads that stitch the two tiers of one partition (DESIGN.md §9): what retention trimmed from
 * Redis is read from the archive, the rest from Redis, behind the same cursors (entry ids for the
 * log, versions for a stream), with no gap and no duplicate at the seam even while trimming runs.
 *
 * The log: the trimmer (trimmer.ts) records the newest entry id it removed in `logTrimmed` and
 * never removes an entry the archive lacks. A Redis read after `after` is whole when `after` is at
 * or past that mark read *after* the entries were (a trim in between only raises the mark), so a
 * read is checked against the mark and, below it, served by the archive instead.
 * A stream: versions are dense and trimming removes a prefix, so a gap shows in the versions.
 * Without an archive, what was trimmed is gone for good (LOG_RETENTION_MS alone): reads go on
 * from what Redis holds.
 */
import type { EventArchive } from '../archive/event-archive.js';
import { compareEntryIds } from '../archive/event-archive.js';
import { eventBytes } from './byte-budget.js';
import type { RecordedEvent } from './envelope.js';
import type { Keys } from './keys.js';
import type { RedisClient } from './redis-connection.js';
import {
  decodeLogEntry,
  decodeStreamEntry,
  entryBytes,
  readAfter,
  type StreamEntry,
} from './redis-entries.js';

/** An event read with its log entry id (bare, `<ms>-<seq>`) and its estimated size. */
export interface TierItem {
  readonly id: string;
  readonly event: RecordedEvent;
  readonly bytes: number;
}

/** Where one partition's trimmed history lives. */
export interface TierSettings {
  /** The archive (ARCHIVE_URL); without it trimmed history is gone (LOG_RETENTION_MS alone). */
  readonly archive?: EventArchive;
  /** The partition's number in the archive (0 with one partition). */
  readonly partition: number;
}

function logItem(entry: StreamEntry): TierItem {
  return { id: entry[0], event: decodeLogEntry(entry), bytes: entryBytes(entry) };
}

function archivedItem(event: RecordedEvent, id = event.globalPosition): TierItem {
  return { id, event, bytes: eventBytes(event) };
}

/** The reads of one partition's log and streams, over Redis and, when trimmed, the archive. */
export class LogTiers {
  /**
   * @param tiers undefined when nothing is ever trimmed (no archive, no LOG_RETENTION_MS): reads
   *   are Redis's alone, as before retention existed.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly tiers?: TierSettings,
  ) {}

  /**
   * At most `count` log events after entry id `after`, in order; fewer only at the end of the log.
   */
  async logAfter(after: string, count: number): Promise<TierItem[]> {
    if (!this.tiers) return this.redisLog(after, count);
    const items: TierItem[] = [];
    let from = after;
    while (items.length < count) {
      const want = count - items.length;
      const [entries, mark] = await this.redisLogAndMark(from, want);
      if (compareEntryIds(from, mark) >= 0) return [...items, ...entries.map(logItem)];
      const archived = await this.archivedAfter(from, want);
      if (archived.length === 0) {
        from = mark; // trimmed without an archive: gone for good, go on from what Redis holds
        continue;
      }
      items.push(...archived);
      from = archived.at(-1)!.id;
    }
    return items;
  }

  /**
   * A blocking read for a log follower on its own connection: up to `count` events after `after`,
   * or none after `blockMs`; from the archive, without blocking, while `after` is below the mark.
   */
  async follow(conn: RedisClient, after: string, count: number, blockMs: number) {
    const key = this.keys.all;
    if (!this.tiers) return (await readAfter(conn, key, after, count, blockMs)).map(logItem);
    if (await this.below(conn, after)) return this.logAfter(after, count);
    const entries = await readAfter(conn, key, after, count, blockMs);
    if (await this.below(conn, after)) return this.logAfter(after, count);
    return entries.map(logItem);
  }

  /**
   * At most `count` events of a stream from version `from` (inclusive; backwards: `undefined` is
   * the newest), in order and without a gap; fewer only where the stream ends that way.
   */
  async streamFrom(
    streamId: string,
    from: number | undefined,
    backward: boolean,
    count: number,
  ): Promise<TierItem[]> {
    const key = this.keys.stream(streamId);
    const entries = (
      backward
        ? await this.redis.xrevrange(
            key,
            from === undefined ? '+' : `0-${from}`,
            '-',
            'COUNT',
            count,
          )
        : await this.redis.xrange(key, `0-${from ?? 1}`, '+', 'COUNT', count)
    ) as StreamEntry[];
    const items = entries.map((entry) => {
      const event = decodeStreamEntry(streamId, entry);
      return { id: event.globalPosition, event, bytes: entryBytes(entry) };
    });
    const archive = this.tiers?.archive;
    if (!archive) return items;
    if (backward) {
      if (items.length === count) return items;
      const next = items.length > 0 ? items.at(-1)!.event.version - 1 : from;
      if (next === undefined || next < 1) return items;
      const older = await archive.readStream(streamId, {
        fromVersion: next,
        direction: 'backward',
        limit: count - items.length,
      });
      return [...items, ...older.map((e) => archivedItem(e))];
    }
    const start = from ?? 1;
    const first = items[0]?.event.version;
    if (first === undefined || first <= start) return items;
    const older = await archive.readStream(streamId, {
      fromVersion: start,
      direction: 'forward',
      limit: Math.min(count, first - start),
    });
    return [...older.map((e) => archivedItem(e)), ...items].slice(0, count);
  }

  private async redisLog(after: string, count: number): Promise<TierItem[]> {
    const entries = (await this.redis.xrange(
      this.keys.all,
      `(${after}`,
      '+',
      'COUNT',
      count,
    )) as StreamEntry[];
    return entries.map(logItem);
  }

  /** The log after `after` and the trim mark, read together (one transaction). */
  private async redisLogAndMark(after: string, count: number): Promise<[StreamEntry[], string]> {
    const replies = await this.redis
      .multi()
      .xrange(this.keys.all, `(${after}`, '+', 'COUNT', count)
      .get(this.keys.logTrimmed)
      .exec();
    if (!replies) throw new Error('the log read was aborted');
    const [[rangeError, entries], [markError, mark]] = replies as [
      [Error | null, StreamEntry[]],
      [Error | null, string | null],
    ];
    if (rangeError || markError) throw rangeError ?? markError;
    return [entries, mark ?? '0-0'];
  }

  /** True when Redis may lack entries after `after` (retention trimmed past it). */
  private async below(conn: RedisClient, after: string): Promise<boolean> {
    const mark = await conn.get(this.keys.logTrimmed);
    return mark !== null && compareEntryIds(after, mark) < 0;
  }

  private async archivedAfter(after: string, count: number): Promise<TierItem[]> {
    const { archive, partition } = this.tiers ?? {};
    if (!archive || partition === undefined) return [];
    const archived = await archive.readLog(partition, after, count);
    return archived.map((a) => archivedItem(a.event, a.entryId));
  }
}
