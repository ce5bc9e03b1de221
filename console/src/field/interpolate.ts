/**
 * Where a trainer is between updates: the reported position plus direction × speed × the time
 * since the report (SPEC.md §4: the server integrates the same way between commands). Pure.
 */

/** A trainer as the field knows it: the server's last report. */
export interface TrainerSnapshot {
  readonly trainerId: string;
  readonly x: number;
  readonly y: number;
  readonly isMoving: boolean;
  readonly dirX: number;
  readonly dirY: number;
  /** The stream version of the report. */
  readonly version: number;
  /** The report's server time, in ms since the epoch. */
  readonly atMs: number;
}

/** The position of `t` at server time `nowMs`, moving `speed` units a second (never back in time). */
export function positionAt(
  t: TrainerSnapshot,
  nowMs: number,
  speed: number,
): { readonly x: number; readonly y: number } {
  if (!t.isMoving) return { x: t.x, y: t.y };
  const seconds = Math.max(nowMs - t.atMs, 0) / 1000;
  return { x: t.x + t.dirX * speed * seconds, y: t.y + t.dirY * speed * seconds };
}

/**
 * Estimates the server clock from reports: `offset` is the smallest (receipt − report time) seen,
 * so a report never appears to come from the future, and network delay is not added twice.
 */
export class ServerClock {
  private offset: number | undefined;

  /** Records a report of server time `atMs` received at local time `receivedMs`. */
  observe(atMs: number, receivedMs: number): void {
    const d = receivedMs - atMs;
    if (this.offset === undefined || d < this.offset) this.offset = d;
  }

  /** The server time now (local time while nothing was observed). */
  now(localMs: number): number {
    return localMs - (this.offset ?? 0);
  }
}
