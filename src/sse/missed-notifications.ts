/**
 * What a resuming session missed (DESIGN.md G5, §8): every partition's notifications after the
 * session's position up to the hub's, merged by time — in stream order within a partition, by
 * entry id (the masters' clocks) across partitions — read a page of each partition at a time, so a
 * replay holds at most a page per partition.
 */
import { compareStreamIds } from '../events/stream-ids.js';
import type { NotificationEntry, NotificationLog } from './notification-log.js';

/** One missed notification and its partition. */
export interface Missed {
  readonly partition: number;
  readonly entry: NotificationEntry;
}

interface Source {
  readonly log: NotificationLog;
  readonly until: string;
  after: string;
  page: NotificationEntry[];
  done: boolean;
}

export class MissedNotifications {
  private readonly sources: Source[];

  /** Partition p's entries after `from[p]` up to `until[p]`, read `pageSize` at a time. */
  constructor(
    logs: readonly NotificationLog[],
    from: readonly string[],
    until: readonly string[],
    private readonly pageSize: number,
  ) {
    this.sources = logs.map((log, p) => ({
      log,
      until: until[p]!,
      after: from[p]!,
      page: [],
      done: compareStreamIds(from[p]!, until[p]!) >= 0,
    }));
  }

  /** The oldest notification not yet returned; undefined once every partition is done. */
  async next(): Promise<Missed | undefined> {
    await Promise.all(
      this.sources.filter((s) => s.page.length === 0 && !s.done).map((s) => this.read(s)),
    );
    let oldest: number | undefined;
    this.sources.forEach((s, p) => {
      const head = s.page[0];
      if (!head) return;
      if (oldest === undefined || compareStreamIds(head.id, this.sources[oldest]!.page[0]!.id) < 0)
        oldest = p;
    });
    if (oldest === undefined) return undefined;
    return { partition: oldest, entry: this.sources[oldest]!.page.shift()! };
  }

  private async read(source: Source): Promise<void> {
    const page = await source.log.range(source.after, source.until, this.pageSize);
    source.page = page;
    source.after = page.at(-1)?.id ?? source.after;
    source.done = page.length < this.pageSize;
  }
}
