/**
 * The memory twin of `{sc}:notify`: the notifications the memory event store writes with its
 * events (capped like MAXLEN), read by the memory `NotificationLog`. Shared by the two, so neither
 * depends on the other.
 */
import { EventEmitter } from 'node:events';
import type { WrittenNotification } from './envelope.js';
import type { PreparedNotification } from './prepare-append.js';

/** A notification as the memory stream keeps it (the fields of a `{sc}:notify` entry). */
export interface StoredNotification extends PreparedNotification {
  readonly id: string;
  readonly serverId: string;
}

/** The notifications stream in memory: ids `0-<n>`, the oldest dropped past the retention. */
export class MemoryNotifications {
  private readonly entries: StoredNotification[] = [];
  private seq = 0;
  private trimmed = false;
  /** Emits `notification` for each one written (the memory twin of a tail on `{sc}:notify`). */
  readonly written = new EventEmitter();

  /** @param retention NOTIFY_RETENTION: notifications kept. */
  constructor(private readonly retention: number) {
    this.written.setMaxListeners(0);
  }

  /** Appends one, answering its id and the id before it (the writer's fast path needs both). */
  write(n: PreparedNotification, serverId: string): WrittenNotification {
    const prevId = `0-${this.seq}`;
    this.seq += 1;
    const id = `0-${this.seq}`;
    const stored = { ...n, id, serverId };
    this.entries.push(stored);
    if (this.entries.length > this.retention) {
      this.entries.shift();
      this.trimmed = true;
    }
    queueMicrotask(() => this.written.emit('notification', stored));
    return { id, prevId };
  }

  /** Notifications after `afterId` (exclusive), oldest first. */
  after(afterId = '0-0'): readonly StoredNotification[] {
    const after = Number(afterId.split('-')[1] ?? 0);
    return this.entries.filter((n) => Number(n.id.split('-')[1]) > after);
  }

  /** The newest id, the oldest kept, and whether any was trimmed, as `XINFO STREAM` tells them. */
  retentionState(): { newest: string; oldest?: string; trimmed: boolean } {
    const oldest = this.entries[0]?.id;
    return { newest: `0-${this.seq}`, ...(oldest ? { oldest } : {}), trimmed: this.trimmed };
  }

  /** How many are kept. */
  get size(): number {
    return this.entries.length;
  }
}
