/**
 * A progress line for long jobs (replay, bench set-up): a bar, counts, rate and ETA, redrawn in
 * place on a terminal and printed every few seconds otherwise (CI logs, pipes).
 */
export class ProgressLine {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Redraws for `done` items (at most every 200 ms on a terminal, 5 s otherwise). */
  update(done: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < (this.out.isTTY ? 200 : 5000)) return;
    this.lastDraw = now;
    this.total = Math.max(this.total, done);
    const line = this.format(done, now);
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  /** Draws the final state and ends the line. */
  finish(done: number, note = ''): void {
    this.update(done, true);
    this.out.write(`${this.out.isTTY ? '\n' : ''}${note ? `${note}\n` : ''}`);
  }

  /** Items per second so far. */
  rate(done: number, now = Date.now()): number {
    return done / Math.max(0.001, (now - this.started) / 1000);
  }

  private format(done: number, now: number): string {
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const width = 24;
    const filled = Math.round(share * width);
    const rate = this.rate(done, now);
    const eta = rate > 0 ? Math.max(0, (this.total - done) / rate) : 0;
    const n = (x: number) => Math.round(x).toLocaleString('en-US');
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${n(done)}/${n(this.total)} · ${n(rate)}/s · ETA ${Math.ceil(eta)} s`;
  }
}
