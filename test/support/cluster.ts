import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';

/** One supervised slot: the instance running in it now and every process it ever ran. */
export interface Slot {
  readonly name: string;
  current: AppProcess | undefined;
  readonly history: AppProcess[];
  /** Set to stop restarting this slot (after a SIGKILL the test wants to keep dead). */
  keepDown: boolean;
}

/**
 * Several instances on one Redis, restarted when they exit (as a process manager would), with
 * every process's output kept for counting faults, reclaims and redeliveries afterwards.
 */
export class Cluster {
  readonly slots: Slot[] = [];
  private stopping = false;

  constructor(
    private readonly envFor: (
      slot: string,
      generation: number,
    ) => Record<string, string | undefined>,
  ) {}

  /** Starts `names.length` instances and waits until each listens. */
  async start(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const slot: Slot = { name, current: undefined, history: [], keepDown: false };
      this.slots.push(slot);
      await this.launch(slot);
    }
  }

  /** URLs of the instances that are up now. */
  liveUrls(): string[] {
    return this.slots.flatMap((s) => (s.current ? [s.current.url] : []));
  }

  /** SIGKILLs the instance of `name` and keeps the slot down. */
  async kill(name: string): Promise<void> {
    const slot = this.slots.find((s) => s.name === name);
    if (!slot?.current) return;
    slot.keepDown = true;
    const proc = slot.current;
    slot.current = undefined;
    await proc.stop('SIGKILL');
  }

  /** SIGKILLs the instance of `name`; the slot starts a new process (as a process manager would). */
  async crash(name: string): Promise<void> {
    const proc = this.slots.find((s) => s.name === name)?.current;
    await proc?.stop('SIGKILL');
  }

  /** Every line every process printed. */
  lines(): string[] {
    return this.slots.flatMap((s) => s.history.flatMap((p) => p.output().split('\n')));
  }

  /** Sums a numeric field over the JSON log lines that have it. */
  sum(field: string): number {
    let total = 0;
    for (const line of this.lines()) {
      if (!line.includes(`"${field}"`)) continue;
      try {
        const value = (JSON.parse(line) as Record<string, unknown>)[field];
        if (typeof value === 'number') total += value;
      } catch {
        // not a JSON line
      }
    }
    return total;
  }

  /** Counts lines matching `pattern`. */
  count(pattern: RegExp): number {
    return this.lines().filter((l) => pattern.test(l)).length;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.slots.map((s) => s.current?.stop('SIGKILL')));
  }

  private async launch(slot: Slot): Promise<void> {
    const proc = await startApp(this.envFor(slot.name, slot.history.length));
    slot.history.push(proc);
    let exited = false;
    void proc.exited.then(() => {
      exited = true;
      if (slot.current === proc) slot.current = undefined;
      if (!this.stopping && !slot.keepDown) void this.launch(slot);
    });
    await proc.waitForLine(/listening/, 20_000).catch(() => {});
    if (!exited) slot.current = proc; // live URLs are only those that listen
  }
}
