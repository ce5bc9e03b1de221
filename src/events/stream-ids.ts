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
