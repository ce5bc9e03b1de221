/**
 * How an outcome not yet confirmed by REDIS_WAIT_REPLICAS is stored and how a shortfall is replied
 * (DESIGN.md §8; the scripts write the same marks). Kept apart from the confirmer so that outcome
 * decoding needs no Redis code.
 */

/** The prefix of a stored outcome written and not yet confirmed by WAIT. */
const UNCONFIRMED = '~';
/** A reply line's outcome part meaning "written, replicas fell short": `!replicas <acked>/<n>`. */
const SHORTFALL = '!replicas ';

/** Whether a stored outcome still waits for its WAIT. */
export function isUnconfirmed(stored: string): boolean {
  return stored.startsWith(UNCONFIRMED);
}

/** A stored outcome without its mark (what dedup reads: a written outcome stands either way). */
export function withoutMark(stored: string): string {
  return isUnconfirmed(stored) ? stored.slice(UNCONFIRMED.length) : stored;
}

/** The reply line of a key whose outcome WAIT could not confirm. */
export function shortfallLine(key: string, acked: number, replicas: number): string {
  return `${key}\t${SHORTFALL}${acked}/${replicas}`;
}

/** A reply's shortfall figures, or undefined for an outcome. */
export function shortfallOf(reply: string): { acked: number; replicas: number } | undefined {
  if (!reply.startsWith(SHORTFALL)) return undefined;
  const [acked = 0, replicas = 0] = reply.slice(SHORTFALL.length).split('/').map(Number);
  return { acked, replicas };
}
