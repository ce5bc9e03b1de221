/**
 * Spreads the partitions' projection leases over the live instances (DESIGN.md §8): an instance
 * leads at most its fair share of each projection's partitions, ⌈PARTITIONS / live instances⌉.
 * Without it the first instance up would take every lease and keep them. A projector under the
 * share competes for a free lease; an instance over it (another one joined) gives up one lease at
 * a time, which an instance under its share then takes. With one partition the share is 1: an
 * instance leads the projection or stands by, as before.
 */

/** How long a count of live instances is used before it is read again. */
const REFRESH_MS = 2000;

export class LeaseShare {
  private readonly leading = new Map<string, number>();
  /** Leases being given up, so that several projectors do not all give theirs up at once. */
  private readonly yielding = new Map<string, number>();
  private live = 1;
  private readAt = 0;
  private reading: Promise<void> | undefined;

  /**
   * @param partitions PARTITIONS
   * @param liveInstances counts the live instances (the instance registry); none: one instance.
   */
  constructor(
    private readonly partitions: number,
    private readonly liveInstances?: () => Promise<number>,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  /** This instance's share of a projection's partitions now (the live count read again if old). */
  async share(): Promise<number> {
    await this.refresh();
    return this.current();
  }

  /** Reads the count of live instances again when the last read is older than `refreshMs`. */
  async refresh(): Promise<void> {
    if (this.liveInstances && Date.now() - this.readAt >= this.refreshMs) {
      this.reading ??= this.liveInstances().then(
        (n) => {
          this.live = Math.max(1, n);
          this.readAt = Date.now();
          this.reading = undefined;
        },
        () => {
          this.reading = undefined; // keep the last count; the next call reads again
        },
      );
      await this.reading;
    }
  }

  private current(): number {
    return Math.ceil(this.partitions / this.live);
  }

  /** Whether this instance may compete for one more lease of `name`. */
  async mayLead(name: string): Promise<boolean> {
    const share = await this.share();
    return (this.leading.get(name) ?? 0) < share;
  }

  /** Counts a lease of `name` taken; `ended` uncounts it. */
  began(name: string): void {
    this.leading.set(name, (this.leading.get(name) ?? 0) + 1);
  }

  ended(name: string, yielded: boolean): void {
    this.leading.set(name, (this.leading.get(name) ?? 1) - 1);
    if (yielded) this.yielding.set(name, (this.yielding.get(name) ?? 1) - 1);
  }

  /**
   * True (once per lease to give up) while this instance leads more of `name` than its share by
   * the last count (`refresh` first); the caller then gives one lease up and says so in `ended`.
   */
  shouldYield(name: string): boolean {
    const kept = (this.leading.get(name) ?? 0) - (this.yielding.get(name) ?? 0);
    if (kept <= this.current()) return false;
    this.yielding.set(name, (this.yielding.get(name) ?? 0) + 1);
    return true;
  }

  /** Leases of `name` this instance holds. */
  held(name: string): number {
    return this.leading.get(name) ?? 0;
  }
}
