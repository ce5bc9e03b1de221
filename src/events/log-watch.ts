/**
 * DESIGN.md G5's check on the event log itself: the global log's newest position never goes back
 * unless Redis lost data (a restart without persistence, a failover to a replica that lagged).
 * When it does, this says so loudly — an error log line, a flag for `/metrics`, and a failing
 * readiness check for a while — since it cannot undo the loss.
 */
import type { Logger } from '../log.js';
import type { EventStore } from './event-store.js';
import { START } from './event-store.js';
import { compareStreamIds, positionBefore, type StreamNow, wentBack } from './stream-ids.js';

/** How long readiness fails after a loss was detected. */
const UNREADY_AFTER_LOSS_MS = 60_000;

export class LogWatch {
  private highWater = START;
  private timer?: NodeJS.Timeout;
  /** Times the log was found behind its high-water mark since start. */
  losses = 0;
  private lastLossAt = 0;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Compares the log with its high-water mark (G5, `wentBack`); exported for tests. */
  async check(): Promise<void> {
    let head: string;
    let lost: boolean;
    try {
      head = await this.store.head();
      lost = await this.wentBack(head);
    } catch {
      return; // Redis unreachable: the redis readiness check reports it
    }
    if (lost) {
      this.losses += 1;
      this.lastLossAt = Date.now();
      this.logger.error(
        'the event log went back: Redis lost acknowledged events (restart without AOF, or failover to a lagging replica); check Redis persistence, see README "Operations"',
        { highWater: this.highWater, head },
      );
    }
    this.highWater = head;
  }

  /** Reads only when the head moved on: is its high-water entry still there? */
  private async wentBack(head: string): Promise<boolean> {
    if (this.highWater === START || head === this.highWater) return false;
    if (compareStreamIds(head, this.highWater) < 0) return true;
    return wentBack(this.highWater, await this.now(head));
  }

  private async now(head: string): Promise<StreamNow> {
    const at = await this.store.readAll({ after: positionBefore(this.highWater), limit: 1 });
    const holdsSeen = at.events[0]?.globalPosition === this.highWater;
    if (holdsSeen) return { newest: head, holdsSeen };
    const [oldest] = (await this.store.readAll({ limit: 1 })).events;
    return { newest: head, holdsSeen, ...(oldest ? { oldest: oldest.globalPosition } : {}) };
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
