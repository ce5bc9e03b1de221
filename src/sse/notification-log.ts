/**
 * The notifications stream as SSE delivery reads it (`{sc}:notify`, DESIGN.md G5): entries in
 * order with ids, the stream's epoch, what was trimmed, and a blocking tail. Adapters: Redis and
 * the memory store's own list.
 */
import type { Json } from '../events/envelope.js';

/** One notification as written with its events. */
export interface NotificationEntry {
  /** Its id in the notifications stream (`<ms>-<seq>`). */
  readonly id: string;
  readonly method: string;
  readonly params: { readonly [k: string]: Json };
  readonly target: 'user' | 'group' | 'broadcast';
  readonly targetIds: readonly string[];
  /** '' when it has none. */
  readonly topic: string;
  /** The instance whose append wrote it. */
  readonly serverId: string;
  /** W3C `traceparent` of the command that caused it (absent when none was carried). */
  readonly traceparent?: string;
}

/** What is retained: the newest id, the oldest kept, and whether anything was trimmed. */
export interface Retention {
  /** '0-0' for a stream that never had an entry. */
  readonly newest: string;
  /** The oldest entry still kept (none when the stream is empty). */
  readonly oldest?: string;
  /** True once entries were trimmed away (MAXLEN) or deleted. */
  readonly trimmed: boolean;
}

/** A running tail. */
export interface Tail {
  close(): Promise<void>;
}

export interface NotificationLog {
  /** The current epoch, created if there is none. */
  epoch(): Promise<string>;
  /** Replaces the epoch if it is still `old` (loss detected); returns the epoch now current. */
  renewEpoch(old: string): Promise<string>;
  retention(): Promise<Retention>;
  /** Entries after `after` up to and including `until`, at most `count`, oldest first. */
  range(after: string, until: string, count: number): Promise<NotificationEntry[]>;
  /**
   * Hands every entry after `after` to `handler`, in order, then follows live; `onInterrupted`
   * is called when the tail loses Redis, before it reads on once Redis is back.
   */
  follow(
    after: string,
    handler: (entries: readonly NotificationEntry[]) => void,
    onInterrupted?: () => void,
  ): Tail;
}
