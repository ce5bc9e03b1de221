/**
 * The background reading loop every reader of a stream runs — the command worker, the global log
 * follower, the notifications tail: read (blocking, on a connection of its own), hand the batch
 * over, and on a Redis error log it and back off (100 ms doubling to 5 s) instead of dying, until
 * closed. A handler that throws stops the loop and rejects `done` (its owner decides what that
 * means).
 */
import type { Logger } from '../log.js';
import { closeOnce } from './close-once.js';

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

/** What a loop does. */
export interface ReadLoopOptions<T> {
  /** Reads the next batch, blocking until there is one or a timeout (then an empty batch). */
  read(): Promise<readonly T[]>;
  /** Handles a non-empty batch, in order; the next read waits for it. */
  handle(batch: readonly T[]): Promise<void> | void;
  /** Stops a blocked read at once (e.g. disconnects the loop's own connection). */
  interrupt(): void;
  /** A failed read, retried (e.g. re-creates a consumer group the stream lost). */
  onReadError?(error: unknown): void;
  /** Names the loop in its log lines: `global log read failed; retrying`. */
  readonly what: string;
  readonly logger: Logger;
}

/** A running loop. */
export interface ReadLoop {
  /** Resolves once closed; rejects with the handler's error when it threw (the loop stops). */
  readonly done: Promise<void>;
  /** True once closing began. */
  readonly closing: boolean;
  /** Stops reading and waits for the handler to return; every call waits for the same close. */
  close(): Promise<void>;
}

/** Starts `options`' loop. */
export function readLoop<T>(options: ReadLoopOptions<T>): ReadLoop {
  let closing = false;
  const run = async () => {
    let backoff = FIRST_BACKOFF_MS;
    while (!closing) {
      let batch: readonly T[];
      try {
        batch = await options.read();
        backoff = FIRST_BACKOFF_MS;
      } catch (error) {
        if (closing) break;
        options.onReadError?.(error);
        options.logger.warn(`${options.what} failed; retrying`, {
          error: String(error),
          retryInMs: backoff,
        });
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      if (batch.length > 0 && !closing) await options.handle(batch);
    }
  };
  const done = run().finally(() => {
    closing = true;
    options.interrupt();
  });
  done.catch(() => {}); // the owner observes `done`; never an unhandled rejection
  return {
    done,
    get closing() {
      return closing;
    },
    close: closeOnce(async () => {
      closing = true;
      options.interrupt();
      await done.catch(() => {});
    }),
  };
}
