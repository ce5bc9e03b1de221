/**
 * Handler slots shared by several workers of one instance: the deployment job workers of every
 * partition share DEPLOY_MAX_CONCURRENT, so an instance runs no more jobs at once with PARTITIONS
 * > 1 than with one. Each worker still reads only into free slots; a slot freed by any of them
 * wakes them all (the first to read takes it). Not strict: workers blocked in a read each counted
 * the last free slot before blocking, so when jobs arrive in several partitions at once an instance
 * can take up to PARTITIONS - 1 more. Holding slots while blocked would make it strict but leave
 * jobs waiting while slots sit reserved by readers of empty partitions (measured: a queued job
 * counted as waiting, and refused starts, in the deployments test).
 */

/** A worker using the slots: how many it holds, and how to wake it when one frees up. */
export interface SlotUser {
  busy(): number;
  wake(): void;
}

/** Slots shared by the workers that join. */
export class SharedSlots {
  private readonly users = new Set<SlotUser>();

  /** @param size slots in all (e.g. DEPLOY_MAX_CONCURRENT). */
  constructor(readonly size: number) {}

  /** Joins `user`; the returned function leaves. */
  join(user: SlotUser): () => void {
    this.users.add(user);
    return () => this.users.delete(user);
  }

  /** Slots no joined worker holds. */
  get free(): number {
    let busy = 0;
    for (const user of this.users) busy += user.busy();
    return this.size - busy;
  }

  /** A slot was freed: wakes every worker waiting for one. */
  freed(): void {
    for (const user of this.users) user.wake();
  }
}
