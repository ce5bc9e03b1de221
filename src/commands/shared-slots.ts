/**
 * Handler slots shared by several workers of one instance: the deployment job workers of every
 * partition share DEPLOY_MAX_CONCURRENT, so an instance runs no more jobs at once with PARTITIONS
 * > 1 than with one. Strict: a worker reserves the slots it may fill before its blocking read (so
 * workers blocked at once never count the same free slot twice), at most its share of them
 * (⌊size / workers⌋, at least 1), and gives back what the read did not fill. While a worker waits for a slot,
 * the others read with short blocks, so the reservations go round every partition quickly and a
 * job in a partition nobody is reading waits a moment, not a whole block.
 */

/** A worker using the slots: how many it holds, and how to wake it when one frees up. */
export interface SlotUser {
  busy(): number;
  wake(): void;
}

/** Slots shared by the workers that join. */
export class SharedSlots {
  private readonly users = new Set<SlotUser>();
  private reserved = 0;
  private waiting = 0;

  /** @param size slots in all (e.g. DEPLOY_MAX_CONCURRENT). */
  constructor(readonly size: number) {}

  /** Joins `user`; the returned function leaves. */
  join(user: SlotUser): () => void {
    this.users.add(user);
    return () => this.users.delete(user);
  }

  /** Slots neither held by a joined worker nor reserved for a read. */
  get free(): number {
    let busy = 0;
    for (const user of this.users) busy += user.busy();
    return this.size - busy - this.reserved;
  }

  /** Whether some worker waits for a slot (the readers then block briefly, to take turns). */
  get contended(): boolean {
    return this.waiting > 0;
  }

  /** Reserves up to `wanted` free slots, at most this worker's share; 0 when none is free. */
  reserve(wanted: number): number {
    const share = Math.max(1, Math.floor(this.size / Math.max(1, this.users.size)));
    const granted = Math.max(0, Math.min(wanted, this.free, share));
    this.reserved += granted;
    return granted;
  }

  /** Gives back reserved slots (filled ones are counted by their worker's `busy` from now on). */
  unreserve(count: number): void {
    if (count <= 0) return;
    this.reserved -= count;
    this.freed();
  }

  /** Counts a worker waiting for a slot until the returned function is called. */
  wait(): () => void {
    this.waiting += 1;
    return () => {
      this.waiting -= 1;
    };
  }

  /** A slot was freed: wakes every worker waiting for one. */
  freed(): void {
    for (const user of this.users) user.wake();
  }
}
