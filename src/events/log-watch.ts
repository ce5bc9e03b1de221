/**
 * DESIGN.md G5's check on the event log itself: the global log's newest position never goes back
 * unless Redis lost data (a restart without persistence, a failover to a replica that lagged).
 * When it does, this says so loudly — an error log line, a flag for `/metrics`, and a failing
 * readiness check for a while — since it cannot undo the loss.
 */
import type { Logger } from '../log.js';
import type { EventStore } from './event-store.js';
import { START } from './event-store.js';
import { compareStreamIds } from './stream-ids.js';

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
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Compares the log's newest position with the highest seen; exported for tests. */
  async check(): Promise<void> {
    let head: string;
    try {
      head = await this.store.head();
    } catch {
      return; // Redis unreachable: the redis readiness check reports it
    }
    const normal = (p: string) => (p === START ? '0-0' : p);
    if (compareStreamIds(normal(head), normal(this.highWater)) < 0) {
      this.losses += 1;
      this.lastLossAt = Date.now();
      this.logger.error(
        'the event log went back: Redis lost acknowledged events (restart without AOF, or failover to a lagging replica); check Redis persistence, see README "Operations"',
        { highWater: this.highWater, head },
      );
    }
    this.highWater = head;
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
