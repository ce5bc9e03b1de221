import { ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RecordedEvent } from './envelope.js';
import { START, type SubscribeAllOptions, type Subscription } from './event-store.js';
import type { TierItem } from './log-tiers.js';
import { PositionFormat } from './partition-positions.js';
import { readLoop } from './read-loop.js';
import { dedicated, type RedisClient } from './redis-connection.js';

const BLOCK_MS = 5000;

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
  readonly close: () => Promise<void>;
  private current: string;

  constructor(
    redis: RedisClient,
    /** Reads up to `count` events after `after` on `conn`, blocking up to `blockMs` (log-tiers.ts). */
    read: (conn: RedisClient, after: string, count: number, blockMs: number) => Promise<TierItem[]>,
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
    logger: Logger,
    private readonly positions = new PositionFormat(),
  ) {
    this.current = positions.in(options.after);
    const batch = options.batchSize ?? 500;
    const conn = dedicated(redis, { blocking: true });
    conn.on('error', () => {}); // reported by the loop
    const loop = readLoop<TierItem>({
      what: 'global log read',
      logger,
      read: () => read(conn, this.current, batch, BLOCK_MS),
      handle: async (items) => {
        await handler(items.map((item) => this.decode(item)));
        this.current = items.at(-1)!.id;
      },
      interrupt: () => conn.disconnect(),
    });
    this.done = loop.done;
    this.close = loop.close;
  }

  private decode({ id, event }: TierItem): RecordedEvent {
    return this.positions.partition === undefined
      ? event
      : { ...event, globalPosition: this.positions.out(id) };
  }

  get position(): string {
    return this.current === '0-0' ? START : this.positions.out(this.current);
  }
}
