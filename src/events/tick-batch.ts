/**
 * Natural batching: every item handed over in the same turn of the event loop goes into one call of
 * `run` (up to `maxPerCall` items; more make more calls). Under light load a batch is one item and
 * waits for nothing (`setImmediate`, not a timer); under load batches grow by themselves. Items keep
 * the order they were added in, and each gets its own result.
 */
export class TickBatch<Item, Result> {
  private queue: Queued<Item, Result>[] = [];
  private scheduled = false;

  constructor(
    private readonly run: (items: readonly Item[]) => Promise<readonly Result[]>,
    private readonly maxPerCall: number,
  ) {}

  /** Runs `item` with whatever else is added in this turn; resolves with its own result. */
  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const queued = this.queue;
    this.queue = [];
    for (let i = 0; i < queued.length; i += this.maxPerCall) {
      void this.settle(queued.slice(i, i + this.maxPerCall));
    }
  }

  private async settle(batch: readonly Queued<Item, Result>[]): Promise<void> {
    try {
      const results = await this.run(batch.map((q) => q.item));
      batch.forEach((queued, i) => {
        if (i < results.length) queued.resolve(results[i]!);
        else
          queued.reject(
            new Error(`a batch of ${batch.length} gave only ${results.length} results`),
          );
      });
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    }
  }
}

interface Queued<Item, Result> {
  readonly item: Item;
  resolve(result: Result): void;
  reject(error: unknown): void;
}
