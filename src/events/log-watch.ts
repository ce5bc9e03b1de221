/**
 * DESIGN.md G5's check on the event log itself: the global log's newest position never goes back
 * unless Redis lost data (a restart without persistence, a failover to a replica that lagged).
 * When it does, this says so loudly — an error log line, a flag for `/metrics`, and a failing
 * readiness check for a while — since it cannot undo the loss. With partitions each partition's
 * log is watched on its own (DESIGN.md §8): a whole-log cursor is no position to compare.
 */
import type { Logger } from '../log.js';
import type { EventStore } from './event-store.js';
import { START } from './event-store.js';
import { parsePartitionPosition } from './partition-positions.js';
import { compareStreamIds, positionBefore, type StreamNow, wentBack } from './stream-ids.js';

/** A position as `[<p>: or '', entry id]`: partition stores hand out `<p>:<id>` (§8). */
function split(position: string): [string, string] {
  const parsed = parsePartitionPosition(position);
  return parsed ? [`${parsed.partition}:`, parsed.id] : ['', position];
}

/** How long readiness fails after a loss was detected. */
const UNREADY_AFTER_LOSS_MS = 60_000;

export class LogWatch {
  private readonly stores: readonly EventStore[];
  /** Each partition's newest position at the last check. */
  private readonly highWater: string[];
  private timer?: NodeJS.Timeout;
  /** Times the log was found behind its high-water mark since start. */
  losses = 0;
  private lastLossAt = 0;
  private checking = false;

  /** @param store the store, or each partition's store (in partition order) */
  constructor(
    store: EventStore | readonly EventStore[],
    private readonly logger: Logger,
    private readonly intervalMs = 500,
  ) {
    this.stores = Array.isArray(store) ? store : [store as EventStore];
    this.highWater = this.stores.map(() => START);
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
      await Promise.all(this.stores.map((_, p) => this.compare(p)));
    } finally {
      this.checking = false;
    }
  }

  private async compare(partition: number): Promise<void> {
    const store = this.stores[partition]!;
    const highWater = this.highWater[partition]!;
    let head: string;
    let lost: boolean;
    try {
      head = await store.head();
      lost = await this.wentBack(store, highWater, head);
    } catch {
      return; // Redis unreachable: the redis readiness check reports it
    }
    if (lost) {
      this.losses += 1;
      this.lastLossAt = Date.now();
      this.logger.error(
        'the event log went back: Redis lost acknowledged events (restart without AOF, or failover to a lagging replica); check Redis persistence, see README "Operations"',
        { ...(this.stores.length > 1 ? { partition } : {}), highWater, head },
      );
    }
    this.highWater[partition] = head;
  }

  /** Reads only when the head moved on: is the high-water entry still there? */
  private async wentBack(store: EventStore, highWater: string, head: string): Promise<boolean> {
    if (highWater === START || head === highWater) return false;
    const [partition, seen] = split(highWater);
    const newest = split(head)[1];
    if (compareStreamIds(newest, seen) < 0) return true;
    const at = await store.readAll({ after: partition + positionBefore(seen), limit: 1 });
    const holdsSeen = at.events[0]?.globalPosition === highWater;
    if (holdsSeen) return false;
    const [oldest] = (await store.readAll({ limit: 1 })).events;
    const now: StreamNow = {
      newest,
      holdsSeen,
      ...(oldest ? { oldest: split(oldest.globalPosition)[1] } : {}),
    };
    return wentBack(seen, now);
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
