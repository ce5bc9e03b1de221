/**
 * Admission of event streams to this instance, shared by every SSE route (`/events`,
 * `/streams/…/events`, `/api/v1/deploy/…/events`): at most `SSE_MAX_CONNECTIONS` in all and
 * `SSE_MAX_CONNECTIONS_PER_USER` per user, so neither many clients nor one user can take every
 * slot. A refused stream is told to retry (maybe on another instance), as SPEC.md §5 says.
 */

/** The limits of one instance. */
export interface AdmissionLimits {
  /** `SSE_MAX_CONNECTIONS`: open event streams on this instance. */
  readonly maxConnections: number;
  /** `SSE_MAX_CONNECTIONS_PER_USER`: open event streams of one user on this instance. */
  readonly maxPerUser: number;
}

/** Which limit refused a stream. */
export type AdmissionRefusal = 'SSE_MAX_CONNECTIONS' | 'SSE_MAX_CONNECTIONS_PER_USER';

/** A slot taken by one stream; `release` gives it back (once, however often it is called). */
export interface AdmissionTicket {
  release(): void;
}

/** Counts the open event streams of this instance, in all and per user. */
export class Admission {
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  /** Open streams now. */
  get size(): number {
    return this.total;
  }

  /** Open streams of one user now. */
  of(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** Takes a slot for `userId`, or names the limit that refuses it. */
  admit(userId: string): AdmissionTicket | AdmissionRefusal {
    if (this.total >= this.limits.maxConnections) return 'SSE_MAX_CONNECTIONS';
    const mine = this.of(userId);
    if (mine >= this.limits.maxPerUser) return 'SSE_MAX_CONNECTIONS_PER_USER';
    this.total += 1;
    this.perUser.set(userId, mine + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        const left = this.of(userId) - 1;
        if (left > 0) this.perUser.set(userId, left);
        else this.perUser.delete(userId);
      },
    };
  }
}
