import type { Redis } from 'ioredis';
import { ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RecordedEvent } from './envelope.js';
import { START, type SubscribeAllOptions, type Subscription } from './event-store.js';
import { decodeLogEntry, type StreamEntry } from './redis-entries.js';

const BLOCK_MS = 5000;
const MAX_BACKOFF_MS = 5000;

/** Checks a page `limit` (default 100, 1..1000). */
export function pageLimit(limit: number | undefined): number {
  const value = limit ?? 100;
  if (!Number.isSafeInteger(value) || value < 1 || value > 1000) {
    throw new ValidationError('limit must be an integer from 1 to 1000', [
      { path: 'limit', message: 'must be 1..1000' },
    ]);
  }
  return value;
}

/**
 * Follows the global log from a position on its own connection. One `XREAD BLOCK` from the last
 * position both catches up and waits for live entries, so there is no seam between the two.
 * Redis errors are logged and retried with backoff; a handler error stops it and rejects `done`.
 */
export class RedisLogFollower implements Subscription {
  readonly done: Promise<void>;
  private readonly conn: Redis;
  private closing = false;
  private current: string;

  constructor(
    redis: Redis,
    private readonly key: string,
    options: SubscribeAllOptions,
    private readonly handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
    private readonly logger: Logger,
  ) {
    this.current = RedisLogFollower.checkPosition(options.after);
    const batch = options.batchSize ?? 500;
    this.conn = redis.duplicate({ maxRetriesPerRequest: null, lazyConnect: false });
    this.conn.on('error', () => {}); // reported by the loop below
    this.done = this.loop(batch);
    this.done.catch(() => {}); // the owner observes `done`; never an unhandled rejection
  }

  /** Validates a Redis global position (`<ms>-<seq>`, or `0` for the start). */
  static checkPosition(position: string | undefined): string {
    const value = position ?? START;
    if (value === START) return '0-0';
    if (typeof value !== 'string' || !/^\d{1,20}-\d{1,20}$/.test(value)) {
      throw new ValidationError(
        `invalid position ${JSON.stringify(value)}: pass a globalPosition or nextPosition you were given, or "0"`,
        [{ path: 'after', message: 'invalid position' }],
      );
    }
    return value;
  }

  get position(): string {
    return this.current === '0-0' ? START : this.current;
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.conn.disconnect();
    }
    await this.done.catch(() => {});
  }

  private async loop(batch: number): Promise<void> {
    try {
      await this.follow(batch);
    } finally {
      this.closing = true;
      this.conn.disconnect();
    }
  }

  private async follow(batch: number): Promise<void> {
    let backoff = 100;
    while (!this.closing) {
      let reply: [string, StreamEntry[]][] | null;
      try {
        reply = (await this.conn.xread(
          'COUNT',
          batch,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.key,
          this.current,
        )) as [string, StreamEntry[]][] | null;
        backoff = 100;
      } catch (error) {
        if (this.closing) break;
        this.logger.warn('global log read failed; retrying', {
          error: String(error),
          retryInMs: backoff,
        });
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0 || this.closing) continue;
      await this.handler(entries.map(decodeLogEntry));
      this.current = entries.at(-1)![0];
    }
  }
}
