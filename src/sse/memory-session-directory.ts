/** The session directory of one process (memory store), with the same expiry and limits as Redis's. */
import { EventEmitter } from 'node:events';
import {
  type DirectoryLimits,
  type InstancePresence,
  type KeepOutcome,
  SESSION_TTL_S,
  type SessionDirectory,
  type SessionRecord,
} from './directory.js';

interface Kept {
  readonly record: SessionRecord;
  readonly expiresAt: number;
}

/** The directory of one process. */
export class MemorySessionDirectory implements SessionDirectory {
  private readonly sessions = new Map<string, Kept>();
  private readonly present = new Map<string, ReadonlyMap<string, number>>();
  private readonly changes = new EventEmitter();
  private readonly ttlMs: number;

  constructor(
    private readonly limits: DirectoryLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = limits.ttlMs ?? SESSION_TTL_S * 1000;
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    return this.live(sessionId)?.record;
  }

  async keep(sessionId: string, record: SessionRecord, replace: boolean): Promise<KeepOutcome> {
    const existing = this.live(sessionId);
    if (!existing && this.keptBy(record.userId) >= this.limits.maxSessionsPerUser) {
      return 'too-many';
    }
    const kept = existing && !replace ? existing.record : record;
    this.sessions.set(sessionId, { record: kept, expiresAt: this.now() + this.ttlMs });
    return 'kept';
  }

  async announce(sessionId: string): Promise<void> {
    this.changes.emit('change', sessionId);
  }

  async onChange(handler: (sessionId: string) => void): Promise<void> {
    this.changes.on('change', handler);
  }

  async setPresence(serverId: string, users: ReadonlyMap<string, number>): Promise<void> {
    if (users.size) this.present.set(serverId, new Map(users));
    else this.present.delete(serverId);
  }

  async clearPresence(serverId: string): Promise<void> {
    this.present.delete(serverId);
  }

  async presence(): Promise<InstancePresence[]> {
    return [...this.present].map(([serverId, users]) => ({
      serverId,
      sessions: [...users.values()].reduce((n, v) => n + v, 0),
      users: [...users.keys()].sort(),
    }));
  }

  async close(): Promise<void> {}

  /** The record of a session that has not expired; an expired one is forgotten here. */
  private live(sessionId: string): Kept | undefined {
    const kept = this.sessions.get(sessionId);
    if (kept && kept.expiresAt <= this.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return kept;
  }

  /** Unexpired sessions of one user (a sweep also forgets every expired record). */
  private keptBy(userId: string): number {
    let count = 0;
    for (const id of [...this.sessions.keys()]) {
      if (this.live(id)?.record.userId === userId) count += 1;
    }
    return count;
  }
}
