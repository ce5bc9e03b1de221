/**
 * Redis stream entry ids (`<ms>-<seq>`; the memory store uses `0-<n>`), compared as the pairs of
 * integers they are. Positions stay opaque to clients; only the server compares them. This runs
 * once per notification per SSE session, so it compares digit strings instead of parsing them.
 */

/** Compares two unsigned decimal strings without leading zeros. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** -1, 0 or 1 as `a` is before, equal to or after `b`; `"0"` is the start. */
export function compareStreamIds(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const byMs = compareDigits(da < 0 ? a : a.slice(0, da), db < 0 ? b : b.slice(0, db));
  if (byMs !== 0) return byMs;
  return compareDigits(da < 0 ? '0' : a.slice(da + 1), db < 0 ? '0' : b.slice(db + 1));
}

/** True for a well-formed stream entry id. */
export function isStreamId(text: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(text);
}

/**
 * The position just before `id`, for an exclusive read that starts at `id`: `<ms>-<seq - 1>`, or
 * the last of the millisecond before; a plain `n` (a memory store position) gives `n - 1`.
 */
export function positionBefore(id: string): string {
  const dash = id.indexOf('-');
  if (dash < 0) return String(BigInt(id) - 1n);
  const ms = BigInt(id.slice(0, dash));
  const seq = BigInt(id.slice(dash + 1));
  return seq > 0n ? `${ms}-${seq - 1n}` : `${ms - 1n}-18446744073709551615`;
}

/** What a stream holds now, as `wentBack` needs it. */
export interface StreamNow {
  readonly newest: string;
  /** Its oldest entry, if any. */
  readonly oldest?: string;
  /** Whether the high-water entry is still there. */
  readonly holdsSeen: boolean;
}

/**
 * DESIGN.md G5: whether a stream lost entries since its newest was `seen` (an entry it held). It
 * did if its newest is now before `seen`, or if `seen` is gone while an older entry is still there:
 * trimming takes the oldest first, so only a loss takes `seen` and keeps one before it. Comparing
 * the newest alone is not enough: entries added after Redis came back get ids of the current time,
 * past `seen`, and hide the loss.
 */
export function wentBack(seen: string, now: StreamNow): boolean {
  if (compareStreamIds(now.newest, seen) < 0) return true;
  return !now.holdsSeen && now.oldest !== undefined && compareStreamIds(now.oldest, seen) < 0;
}
