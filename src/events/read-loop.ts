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
/**
 * How long `close` waits for a read its interrupt did not end before leaving it behind: ioredis's
 * Cluster client, disconnected during a failover, keeps a command it was about to retry queued for
 * good, neither answered nor failed.
 */
const ABANDON_READ_MS = 1000;

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
  /**
   * Stops reading and waits for the handler to return (for a blocked read, at most
   * `ABANDON_READ_MS`); every call waits for the same close.
   */
  close(): Promise<void>;
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value).unref());
}

/** Starts `options`' loop. */
export function readLoop<T>(options: ReadLoopOptions<T>): ReadLoop {
  let closing = false;
  let reading = false;
  const run = async () => {
    let backoff = FIRST_BACKOFF_MS;
    while (!closing) {
      let batch: readonly T[];
      reading = true;
      try {
        batch = await options.read();
        backoff = FIRST_BACKOFF_MS;
      } catch (error) {
        reading = false;
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
      reading = false;
      if (batch.length > 0 && !closing) await options.handle(batch);
    }
  };
  const done = run().finally(() => {
    closing = true;
    options.interrupt();
  });
  done.catch(() => {}); // the owner observes `done`; never an unhandled rejection
  const ended = done.then(
    () => true,
    () => true,
  );
  return {
    done,
    get closing() {
      return closing;
    },
    close: closeOnce(async () => {
      closing = true;
      options.interrupt();
      // a read that ends later is dropped: the loop handles nothing once closing
      if (!reading || (await Promise.race([ended, delay(ABANDON_READ_MS, false)]))) {
        await ended;
        return;
      }
      options.logger.warn(
        `${options.what}: closed without its read, which a disconnect did not end`,
      );
    }),
  };
}
