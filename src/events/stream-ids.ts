/**
 * Redis stream entry ids (`<ms>-<seq>`; the memory store uses `0-<n>`), compared as the pairs of
 * integers they are. Positions stay opaque to clients; only the server compares them.
 */

/** -1, 0 or 1 as `a` is before, equal to or after `b`; `"0"` is the start. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map(BigInt);
  const [bm = 0n, bs = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** True for a well-formed stream entry id. */
export function isStreamId(text: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(text);
}
