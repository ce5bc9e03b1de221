/**
 * The bytes one HTTP response may still hold (`RPC_MAX_RESPONSE_BYTES`), shared by the members of
 * a JSON-RPC batch, so that one small request cannot make the instance hold gigabytes of events.
 * Readers take an estimate for each item before they keep it and stop short when it no longer fits.
 */
import { DomainRuleError } from '../errors.js';
import type { RecordedEvent } from './envelope.js';

/** What a reader sees of a budget: take bytes if they fit. */
export interface ResponseBudget {
  /**
   * Takes `bytes` and returns true when they fit in what is left; false (taking nothing) when they
   * do not. Throws `DomainRuleError` (`response-too-large`) when `bytes` exceed the whole budget,
   * since no page could ever hold that item.
   */
  take(bytes: number): boolean;
  /** Bytes still free (never below 0), so a reader fetches no more than may fit. */
  readonly left: number;
}

/** Bytes a serialised event carries beside its data and metadata (field names, ids, positions). */
export const ENVELOPE_BYTES = 200;

/** The estimated serialised size of a recorded event. */
export function eventBytes(event: RecordedEvent): number {
  return (
    ENVELOPE_BYTES +
    Buffer.byteLength(JSON.stringify(event.data) ?? '') +
    Buffer.byteLength(JSON.stringify(event.metadata))
  );
}

/** One response's budget; `member()` hands each batch member a view that counts what it took. */
export class ByteBudget implements ResponseBudget {
  #left: number;

  constructor(readonly total: number) {
    this.#left = total;
  }

  /** Bytes still free (never below 0). */
  get left(): number {
    return Math.max(this.#left, 0);
  }

  take(bytes: number): boolean {
    if (bytes > this.total) {
      throw new DomainRuleError(
        'response-too-large',
        `one item of ${bytes} bytes is larger than a whole response may be (RPC_MAX_RESPONSE_BYTES = ${this.total})`,
      );
    }
    if (bytes > this.#left) return false;
    this.#left -= bytes;
    return true;
  }

  /** Counts bytes already in the response, whether they fit or not. */
  charge(bytes: number): void {
    this.#left -= bytes;
  }

  /** A view for one member: its takes count here and in `taken`. */
  member(): ResponseBudget & { readonly taken: number } {
    let taken = 0;
    const budget = this;
    return {
      take: (bytes) => {
        const fits = this.take(bytes);
        if (fits) taken += bytes;
        return fits;
      },
      get left() {
        return budget.left;
      },
      get taken() {
        return taken;
      },
    };
  }
}

/** The longest prefix of `events` that fits in `budget` (all of them without one). */
export function fitting(
  events: readonly RecordedEvent[],
  budget: ResponseBudget | undefined,
): readonly RecordedEvent[] {
  if (!budget) return events;
  const end = events.findIndex((event) => !budget.take(eventBytes(event)));
  return end === -1 ? events : events.slice(0, end);
}
