/**
 * The in-memory `EventArchive`, for tests and the memory store: the same contract as PostgreSQL's
 * (test/contract/event-archive), kept in arrays.
 */
import type { RecordedEvent } from '../events/envelope.js';
import {
  type ArchivedEvent,
  type ArchiveStreamRead,
  checkArchiveBatch,
  checkEntryId,
  compareEntryIds,
  type EventArchive,
} from './event-archive.js';

interface PartitionLog {
  fence: number;
  checkpoint: string;
  readonly events: ArchivedEvent[];
}

export class MemoryEventArchive implements EventArchive {
  private readonly partitions = new Map<number, PartitionLog>();
  private readonly streams = new Map<string, RecordedEvent[]>();

  private log(partition: number): PartitionLog {
    let log = this.partitions.get(partition);
    if (!log) {
      log = { fence: 0, checkpoint: '0-0', events: [] };
      this.partitions.set(partition, log);
    }
    return log;
  }

  async write(
    partition: number,
    fence: number,
    events: readonly ArchivedEvent[],
  ): Promise<boolean> {
    checkArchiveBatch(partition, events);
    const log = this.log(partition);
    if (fence < log.fence) return false;
    const fresh = events.filter((e) => compareEntryIds(e.entryId, log.checkpoint) > 0);
    for (const { event } of fresh) {
      if (this.streams.get(event.streamId)?.some((e) => e.version === event.version)) {
        throw new Error(`archive: ${event.streamId} version ${event.version} is archived already`);
      }
    }
    log.fence = fence;
    for (const archived of fresh) {
      const stream = this.streams.get(archived.event.streamId) ?? [];
      stream.push(archived.event);
      this.streams.set(archived.event.streamId, stream);
      log.events.push(archived);
      log.checkpoint = archived.entryId;
    }
    return true;
  }

  async archivedUpTo(partition: number): Promise<string> {
    return this.log(partition).checkpoint;
  }

  async readStream(streamId: string, read: ArchiveStreamRead): Promise<readonly RecordedEvent[]> {
    const events = [...(this.streams.get(streamId) ?? [])].sort((a, b) => a.version - b.version);
    if (read.direction === 'forward') {
      return events.filter((e) => e.version >= read.fromVersion).slice(0, read.limit);
    }
    return events
      .filter((e) => e.version <= read.fromVersion)
      .reverse()
      .slice(0, read.limit);
  }

  async readLog(
    partition: number,
    after: string,
    limit: number,
  ): Promise<readonly ArchivedEvent[]> {
    checkEntryId(after, 'after');
    return this.log(partition)
      .events.filter((e) => compareEntryIds(e.entryId, after) > 0)
      .slice(0, limit);
  }

  async close(): Promise<void> {}
}
