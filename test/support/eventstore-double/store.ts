/**
 * The double's in-memory storage: streams (revision-numbered) and the one global log `$all`
 * (position-numbered), with the expected-revision checks and idempotence of an append. Pure and
 * synchronous: an append is atomic because nothing else runs while it does, which is also what
 * lets a subscription switch from catch-up to live without a gap or a duplicate.
 */

/** An event as the client proposed it. */
export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

/** An event as stored: the proposal plus its stream, revision, position and creation time. */
export interface StoredEvent extends ProposedEvent {
  readonly streamName: string;
  readonly revision: bigint;
  /**
   * Position in `$all`. The double uses one number for commit and prepare (a single-event
   * "transaction"), growing like a byte offset in a transaction file.
   */
  readonly position: bigint;
  /** 100-nanosecond ticks since the Unix epoch, as the server sends `created`. */
  readonly createdTicks: bigint;
}

/** What the caller expects the stream to be at; the four cases of the protocol. */
export type ExpectedRevision =
  | { readonly kind: 'any' }
  | { readonly kind: 'no_stream' }
  | { readonly kind: 'stream_exists' }
  | { readonly kind: 'exact'; readonly revision: bigint };

/** The outcome of an append. */
export type AppendOutcome =
  | {
      readonly kind: 'success';
      /** Revision of the stream's last event after the append; undefined: still no stream. */
      readonly currentRevision: bigint | undefined;
      /** Position of the last event the append wrote (or the idempotent original wrote). */
      readonly position: bigint | undefined;
      /** False when the append was recognised as a retry and wrote nothing. */
      readonly written: boolean;
    }
  | {
      readonly kind: 'wrong_expected_version';
      /** Revision of the stream's last event; undefined: the stream does not exist. */
      readonly currentRevision: bigint | undefined;
      readonly expected: ExpectedRevision;
    };

/** A listener told of each event after it is stored, in `$all` order. */
export type AppendListener = (event: StoredEvent) => void;

/** Where the first event sits in `$all` (as if an epoch record came before it). */
const FIRST_POSITION = 128n;
/** Fixed bytes a record takes besides its payload, to make positions look like file offsets. */
const RECORD_OVERHEAD = 96n;

/** In-memory streams and `$all`; survives the double's stop/start (it is the "disk"). */
export class EventStoreMemory {
  readonly #streams = new Map<string, StoredEvent[]>();
  readonly #all: StoredEvent[] = [];
  readonly #listeners = new Set<AppendListener>();
  readonly #now: () => Date;
  #nextPosition = FIRST_POSITION;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** The events of one stream, in revision order; undefined when the stream does not exist. */
  stream(name: string): readonly StoredEvent[] | undefined {
    return this.#streams.get(name);
  }

  /** Every event in `$all` order. */
  all(): readonly StoredEvent[] {
    return this.#all;
  }

  /** Calls `listener` after each stored event; returns the function that stops it. */
  onAppend(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Appends `events` atomically to `streamName` if `expected` holds.
   *
   * Follows "Optimistic concurrency and idempotence"
   * (https://eventstore.org/docs/dotnet-api/optimistic-concurrency-and-idempotence/index.html#idempotence,
   * and "Working with EventData / eventId" in docs/clients/grpc/appending-events.md of
   * EventStore/documentation): with an exact revision or `no_stream`, re-sending the same event ids
   * at the same expected revision succeeds without writing and returns the original result; with
   * `any` (and `stream_exists`, which the server treats alike) idempotence is best effort — the
   * server looks the ids up in a cache of recent writes; the double finds them in the stream.
   */
  append(
    streamName: string,
    expected: ExpectedRevision,
    events: readonly ProposedEvent[],
  ): AppendOutcome {
    const stream = this.#streams.get(streamName);
    const currentRevision = stream ? BigInt(stream.length - 1) : undefined;

    const retry = this.#idempotentRetry(stream, expected, events);
    if (retry) return retry;

    if (!expectationHolds(expected, currentRevision)) {
      return { kind: 'wrong_expected_version', currentRevision, expected };
    }
    if (events.length === 0) {
      const last = stream?.at(-1);
      return { kind: 'success', currentRevision, position: last?.position, written: false };
    }

    const target = stream ?? [];
    if (!stream) this.#streams.set(streamName, target);
    const createdTicks = BigInt(this.#now().getTime()) * 10_000n;
    const stored: StoredEvent[] = events.map((event, index) => {
      const position = this.#nextPosition;
      this.#nextPosition += recordSize(event);
      return {
        ...event,
        streamName,
        revision: BigInt(target.length + index),
        position,
        createdTicks,
      };
    });
    target.push(...stored);
    this.#all.push(...stored);
    for (const event of stored) {
      for (const listener of this.#listeners) listener(event);
    }
    const last = stored.at(-1)!;
    return {
      kind: 'success',
      currentRevision: last.revision,
      position: last.position,
      written: true,
    };
  }

  /**
   * The server's idempotency check (EventStore server, IndexWriter.CheckCommit): the original
   * result when `events` repeats an append already stored, a conflict when it repeats only part
   * of one ("corrupted idempotency … WrongExpectedVersion is ok answer"), else undefined.
   */
  #idempotentRetry(
    stream: readonly StoredEvent[] | undefined,
    expected: ExpectedRevision,
    events: readonly ProposedEvent[],
  ): AppendOutcome | undefined {
    if (!stream || events.length === 0) return undefined;
    const currentRevision = BigInt(stream.length - 1);
    let matched: StoredEvent[];
    switch (expected.kind) {
      case 'no_stream':
      case 'exact': {
        // Only a stream that moved past the expected revision can hold the retried events, at
        // the revisions right after it.
        const first = expected.kind === 'exact' ? Number(expected.revision) + 1 : 0;
        if (first >= stream.length) return undefined;
        const same = events.every((event, index) => stream[first + index]?.id === event.id);
        if (!same) return undefined;
        matched = stream.slice(first, first + events.length);
        break;
      }
      case 'any':
      case 'stream_exists': {
        // Any id already in the stream counts; an unknown first id is a new append, an unknown
        // later one a partial repeat. The server looks ids up in a bounded cache of recent
        // writes ("best effort"); the double remembers them all.
        matched = [];
        for (const event of events) {
          const stored = stream.find((candidate) => candidate.id === event.id);
          if (!stored) {
            return matched.length === 0
              ? undefined
              : { kind: 'wrong_expected_version', currentRevision, expected };
          }
          matched.push(stored);
        }
        break;
      }
      default: {
        const unreachable: never = expected;
        return unreachable;
      }
    }
    const last = matched.at(-1)!;
    return {
      kind: 'success',
      currentRevision: last.revision,
      position: last.position,
      written: false,
    };
  }
}

/** Whether a stream at `current` (undefined: no stream) satisfies `expected`. */
function expectationHolds(expected: ExpectedRevision, current: bigint | undefined): boolean {
  switch (expected.kind) {
    case 'any':
      return true;
    case 'no_stream':
      return current === undefined;
    case 'stream_exists':
      return current !== undefined;
    case 'exact':
      return current === expected.revision;
    default: {
      const unreachable: never = expected;
      return unreachable;
    }
  }
}

/** Bytes a stored record would take: payload plus fixed overhead, so positions grow per event. */
function recordSize(event: ProposedEvent): bigint {
  return (
    RECORD_OVERHEAD +
    BigInt(event.data.length + event.customMetadata.length + event.type.length + event.id.length)
  );
}
