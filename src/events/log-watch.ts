/**
 * DESIGN.md G5's check on the event log itself: the global log's newest position never goes back
 * unless Redis lost data (a restart without persistence, a failover to a replica that lagged).
 * When it does, this says so loudly — an error log line, a flag for `/metrics`, and a failing
 * readiness check for a while — since it cannot undo the loss.
 */
import type { Logger } from '../log.js';
import type { EventStore } from './event-store.js';
import { START } from './event-store.js';
import { parsePartitionPosition, partitionPosition } from './partition-positions.js';
import { PartitionedEventStore } from './partitioned-event-store.js';
import { compareStreamIds, positionBefore, type StreamNow, wentBack } from './stream-ids.js';

/** One partition's log as the watch compares it: entry ids, and its high-water mark. */
interface WatchedLog {
  readonly store: EventStore;
  /** The partition number of its positions (`<p>:<id>`); none with one partition. */
  readonly partition?: number;
  highWater: string;
}

/** How long readiness fails after a loss was detected. */
const UNREADY_AFTER_LOSS_MS = 60_000;

/**
 * Watches the log of every partition (a partitioned store's partitions each on their own: entry
 * ids of different masters cannot be compared).
 */
export class LogWatch {
  private readonly logs: readonly WatchedLog[];
  private timer?: NodeJS.Timeout;
  /** Times the log was found behind its high-water mark since start. */
  losses = 0;
  private lastLossAt = 0;
  private checking = false;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly intervalMs = 500,
  ) {
    this.logs =
      store instanceof PartitionedEventStore
        ? store.partitions.map((s, partition) => ({ store: s, partition, highWater: START }))
        : [{ store, highWater: START }];
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Compares the log with its high-water mark (G5, `wentBack`); exported for tests. One at a time:
   * while Redis is away the reads wait, and checks overlapping would mix high-water marks.
   */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      for (const log of this.logs) await this.compare(log);
    } finally {
      this.checking = false;
    }
  }

  private async compare(log: WatchedLog): Promise<void> {
    const { highWater } = log;
    let head: string;
    let lost: boolean;
    try {
      head = idOf(log, await log.store.head());
      lost = await this.wentBack(log, highWater, head);
    } catch {
      return; // Redis unreachable: the redis readiness check reports it
    }
    if (lost) {
      this.losses += 1;
      this.lastLossAt = Date.now();
      this.logger.error(
        'the event log went back: Redis lost acknowledged events (restart without AOF, or failover to a lagging replica); check Redis persistence, see README "Operations"',
        { highWater, head, ...(log.partition !== undefined ? { partition: log.partition } : {}) },
      );
    }
    log.highWater = head;
  }

  /** Reads only when the head moved on: is the high-water entry still there? */
  private async wentBack(log: WatchedLog, highWater: string, head: string): Promise<boolean> {
    if (highWater === START || head === highWater) return false;
    if (compareStreamIds(head, highWater) < 0) return true;
    const after = positionOf(log, positionBefore(highWater));
    const at = await log.store.readAll({ after, limit: 1 });
    const seen = at.events[0];
    const holdsSeen = seen !== undefined && idOf(log, seen.globalPosition) === highWater;
    if (holdsSeen) return false;
    const [oldest] = (await log.store.readAll({ limit: 1 })).events;
    const now: StreamNow = {
      newest: head,
      holdsSeen,
      ...(oldest ? { oldest: idOf(log, oldest.globalPosition) } : {}),
    };
    return wentBack(highWater, now);
  }

  /** A readiness check failing for a minute after a detected loss. */
  readonly readiness = {
    name: 'event-log',
    check: () =>
      Date.now() - this.lastLossAt < UNREADY_AFTER_LOSS_MS
        ? { ok: false, reason: 'the event log went back (Redis lost data) less than a minute ago' }
        : { ok: true },
  };
}

/** The entry id of a position of `log` (START stays START). */
function idOf(log: WatchedLog, position: string): string {
  if (log.partition === undefined || position === START) return position;
  return parsePartitionPosition(position)?.id ?? position;
}

/** The position of an entry id of `log`. */
function positionOf(log: WatchedLog, id: string): string {
  return log.partition === undefined ? id : partitionPosition(log.partition, id);
}
