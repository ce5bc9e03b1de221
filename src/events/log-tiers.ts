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
  fieldMap,
  readAfter,
  type StreamEntry,
  versionOf,
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

/** The stream and version a log entry refers to; undefined for an entry that holds its event. */
function logRef(entry: StreamEntry): { streamId: string; version: number } | undefined {
  const f = fieldMap(entry[1]);
  if (f.data !== undefined) return undefined;
  return { streamId: f.stream ?? '', version: Number(f.version) };
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
    if (!this.tiers) return this.resolveAll(await this.redisLog(after, count));
    const items: TierItem[] = [];
    let from = after;
    let lastMark: string | undefined;
    while (items.length < count) {
      const want = count - items.length;
      const [entries, mark] = await this.redisLogAndMark(from, want);
      if (compareEntryIds(from, mark) >= 0) {
        const resolved = await this.resolve(entries);
        if (resolved.length === entries.length) return [...items, ...resolved];
        // an entity entry went after the log read: the trim passed it, so the mark moved
        if (mark === lastMark) throw this.missing(entries[resolved.length]!);
        lastMark = mark;
        items.push(...resolved);
        if (resolved.length > 0) from = resolved.at(-1)!.id;
        continue;
      }
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
  async follow(
    conn: RedisClient,
    after: string,
    count: number,
    blockMs: number,
  ): Promise<TierItem[]> {
    const key = this.keys.all;
    if (!this.tiers) return this.resolveAll(await readAfter(conn, key, after, count, blockMs));
    if (await this.below(conn, after)) return this.logAfter(after, count);
    const entries = await readAfter(conn, key, after, count, blockMs);
    if (await this.below(conn, after)) return this.logAfter(after, count);
    const resolved = await this.resolve(entries);
    return resolved.length === entries.length ? resolved : this.logAfter(after, count);
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

  /**
   * Log entries as events: an entry written before references (`data` among its fields) holds its
   * event; else it names its stream and version, and the entity stream's entry holds the event.
   * One pipelined XRANGE per stream of the page (a page is a stretch of the log, so it holds every
   * version of a stream between the first and last it shows). Stops at the first entity entry
   * that is gone.
   */
  private async resolve(entries: readonly StreamEntry[]): Promise<TierItem[]> {
    const refs = entries.map((entry) => logRef(entry));
    const spans = new Map<string, { from: number; to: number }>();
    for (const ref of refs) {
      if (!ref) continue;
      const span = spans.get(ref.streamId);
      if (!span) spans.set(ref.streamId, { from: ref.version, to: ref.version });
      else span.to = Math.max(span.to, ref.version);
    }
    const found = new Map<string, StreamEntry>(); // `<streamId>\n<version>` → its entry
    if (spans.size > 0) {
      const pipeline = this.redis.pipeline();
      for (const [streamId, { from, to }] of spans) {
        pipeline.xrange(this.keys.stream(streamId), `0-${from}`, `0-${to}`);
      }
      const replies = (await pipeline.exec()) ?? [];
      const streamIds = [...spans.keys()];
      for (const [i, [error, reply]] of replies.entries()) {
        if (error) throw error;
        for (const entry of reply as StreamEntry[]) {
          found.set(`${streamIds[i]}\n${versionOf(entry[0])}`, entry);
        }
      }
    }
    const items: TierItem[] = [];
    for (const [i, entry] of entries.entries()) {
      const ref = refs[i];
      if (!ref) {
        items.push(logItem(entry));
        continue;
      }
      const streamEntry = found.get(`${ref.streamId}\n${ref.version}`);
      if (!streamEntry) return items;
      const event = { ...decodeStreamEntry(ref.streamId, streamEntry), globalPosition: entry[0] };
      items.push({ id: entry[0], event, bytes: entryBytes(streamEntry) });
    }
    return items;
  }

  /** `resolve` where nothing is ever trimmed: a missing entity entry is an error. */
  private async resolveAll(entries: readonly StreamEntry[]): Promise<TierItem[]> {
    const items = await this.resolve(entries);
    if (items.length < entries.length) throw this.missing(entries[items.length]!);
    return items;
  }

  private missing(entry: StreamEntry): Error {
    const ref = logRef(entry);
    return new Error(
      `log entry ${entry[0]} refers to ${ref?.streamId} version ${ref?.version}, which its entity stream no longer holds (was the stream deleted by hand?)`,
    );
  }

  private async redisLog(after: string, count: number): Promise<StreamEntry[]> {
    const entries = (await this.redis.xrange(
      this.keys.all,
      `(${after}`,
      '+',
      'COUNT',
      count,
    )) as StreamEntry[];
    return entries;
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
