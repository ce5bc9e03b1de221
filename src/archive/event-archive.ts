/**
 * The archive port (DESIGN.md §9): the whole log kept in a database, read where Redis no longer
 * holds it. Redis stays the system of record for the newest events; the archive is written only by
 * the archiver of each partition, in log order, and never on the command path.
 *
 * Positions here are a partition's bare log entry ids (`<ms>-<seq>`), the partition apart (0 with
 * one partition); stores turn them into client positions (partition-positions.ts).
 * Adapters: PostgreSQL (`ARCHIVE_URL`), memory (tests). Contract: test/contract/event-archive.
 */
import type { RecordedEvent } from '../events/envelope.js';

/** One archived event: the recorded event with its partition and bare entry id. */
export interface ArchivedEvent {
  readonly partition: number;
  /** The partition's log entry id, `<ms>-<seq>`. */
  readonly entryId: string;
  /** `globalPosition` as stored in Redis (the bare entry id); the partition store formats it. */
  readonly event: RecordedEvent;
}

/** A page of one stream from the archive. */
export interface ArchiveStreamRead {
  /** First version to return (inclusive). */
  readonly fromVersion: number;
  readonly direction: 'forward' | 'backward';
  readonly limit: number;
}

export interface EventArchive {
  /**
   * Writes a batch of one partition's log, in log order, with the partition's archive checkpoint in
   * the same transaction, if and only if `fence` is still the partition's newest fence (a leased
   * archiver's token, as for projections). Events at or below the checkpoint are skipped, so a
   * batch written twice is archived once. Returns false, writing nothing, when fenced out.
   */
  write(partition: number, fence: number, events: readonly ArchivedEvent[]): Promise<boolean>;
  /** The newest entry id archived for a partition (`0-0` before the first). */
  archivedUpTo(partition: number): Promise<string>;
  /** Events of one stream in version order from `fromVersion` (inclusive), at most `limit`. */
  readStream(streamId: string, read: ArchiveStreamRead): Promise<readonly RecordedEvent[]>;
  /** A partition's log after entry id `after` (exclusive), ascending, at most `limit`. */
  readLog(partition: number, after: string, limit: number): Promise<readonly ArchivedEvent[]>;
  /** Closes its connections. */
  close(): Promise<void>;
}

/** Orders two entry ids `<ms>-<seq>` (negative, 0, positive). */
export function compareEntryIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const byMs = BigInt(am) - BigInt(bm);
  if (byMs !== 0n) return byMs < 0n ? -1 : 1;
  const bySeq = BigInt(as) - BigInt(bs);
  return bySeq === 0n ? 0 : bySeq < 0n ? -1 : 1;
}

const ENTRY_ID = /^\d{1,19}-\d{1,19}$/;

/** Throws, naming the fix, unless `entryId` is a log entry id `<ms>-<seq>`. */
export function checkEntryId(entryId: string, what = 'entry id'): void {
  if (!ENTRY_ID.test(entryId)) {
    throw new Error(
      `archive: ${what} ${JSON.stringify(entryId)} is not a log entry id; pass one like 1733222222222-0 (0-0 before the first)`,
    );
  }
}

/**
 * Throws, before anything is written, unless every event of a batch is of `partition`, has an
 * entry id, and the ids ascend (the log's order), and no stream version appears twice.
 */
export function checkArchiveBatch(partition: number, events: readonly ArchivedEvent[]): void {
  const versions = new Set<string>();
  events.forEach((archived, i) => {
    checkEntryId(archived.entryId);
    if (archived.partition !== partition) {
      throw new Error(
        `archive: event ${archived.entryId} is of partition ${archived.partition}, the batch of partition ${partition}; write each partition's log apart`,
      );
    }
    const before = events[i - 1];
    if (before && compareEntryIds(before.entryId, archived.entryId) >= 0) {
      throw new Error(
        `archive: entry ${archived.entryId} follows ${before.entryId}; a batch must be in log order`,
      );
    }
    const key = `${archived.event.streamId}\n${archived.event.version}`;
    if (versions.has(key)) {
      throw new Error(
        `archive: ${archived.event.streamId} version ${archived.event.version} appears twice in the batch`,
      );
    }
    versions.add(key);
  });
}
