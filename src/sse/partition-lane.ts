/**
 * One partition's notifications as the hub follows them (DESIGN.md G5, §8): the partition's
 * epoch, the newest entry delivered from it, its tail, and the check that finds its stream behind
 * what was delivered (Redis lost data, or failed over to a replica that lagged) and starts a new
 * epoch there.
 */
import { positionBefore, wentBack } from '../events/stream-ids.js';
import type { NotificationEntry, NotificationLog, Tail } from './notification-log.js';

/** What a check found: nothing, or a loss (a new epoch, and the newest entry now). */
export type LaneCheck =
  | { readonly lost: false }
  | {
      readonly lost: true;
      readonly oldEpoch: string;
      readonly seen: string;
      readonly newest: string;
    };

export class PartitionLane {
  epoch = '';
  /** The newest entry handed to the sessions (by the tail or the fast path). */
  delivered = '0-0';
  private tail?: Tail;
  private checking = false;
  /**
   * What was delivered each time the tail lost a connection since the last check: each is checked,
   * since entries the tail delivers once Redis is back move `delivered` past a loss (G5), and a
   * later interruption does not vouch for an earlier one.
   */
  private held: string[] = [];

  constructor(
    readonly partition: number,
    readonly log: NotificationLog,
    private readonly onEntries: (
      lane: PartitionLane,
      entries: readonly NotificationEntry[],
    ) => void,
  ) {}

  /** Joins the partition's stream at its newest entry (the tail starts with `follow`). */
  async join(): Promise<void> {
    this.epoch = await this.log.epoch();
    this.delivered = (await this.log.retention()).newest;
  }

  /** Tails the stream after what was delivered. */
  follow(): void {
    this.tail = this.log.follow(
      this.delivered,
      (entries) => this.onEntries(this, entries),
      () => {
        if (!this.held.includes(this.delivered)) this.held.push(this.delivered);
      },
    );
  }

  async close(): Promise<void> {
    await this.tail?.close();
  }

  /**
   * G5 loss detection: the epoch key gone, or the stream behind what was delivered, starts a new
   * epoch; the tail stops, and `delivered` is the newest entry, where `follow` starts it again once
   * the sessions were told. Undefined while an earlier check runs.
   */
  async check(): Promise<LaneCheck | undefined> {
    if (this.checking) return undefined;
    this.checking = true;
    try {
      const { log } = this;
      // before reading: the fast path may deliver meanwhile
      const points = [...new Set([...this.held, this.delivered])];
      const { newest, oldest } = await log.retention();
      let seen: string | undefined;
      for (const point of points) {
        const holdsSeen =
          point === '0-0' || (await log.range(positionBefore(point), point, 1))[0]?.id === point;
        if (wentBack(point, { newest, holdsSeen, ...(oldest ? { oldest } : {}) })) {
          seen = point;
          break;
        }
      }
      const current = seen ? await log.renewEpoch(this.epoch) : await log.epoch();
      this.held = this.held.filter((point) => !points.includes(point));
      if (current === this.epoch) return { lost: false };
      const oldEpoch = this.epoch;
      await this.tail?.close();
      this.epoch = current;
      this.delivered = newest;
      return { lost: true, oldEpoch, seen: seen ?? points.at(-1)!, newest };
    } finally {
      this.checking = false;
    }
  }
}
