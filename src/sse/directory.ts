/**
 * What every instance must know about SSE sessions it does not hold (Redis, or memory for one
 * instance): each client-chosen session's owner and subscription (so a change made through any
 * instance reaches the one holding the session, and survives reconnects), and presence — which
 * users are connected to which instance, forgotten when an instance stops renewing it.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Keys } from '../events/keys.js';
import type { SubscriptionSpec } from './routing.js';

/** A session as the directory keeps it. */
export interface SessionRecord {
  readonly userId: string;
  readonly spec: SubscriptionSpec;
}

/** One instance's connected users. */
export interface InstancePresence {
  readonly serverId: string;
  readonly sessions: number;
  readonly users: readonly string[];
}

/** How long a session's subscription is kept after it was last used. */
export const SESSION_TTL_S = 24 * 3600;

export interface SessionDirectory {
  get(sessionId: string): Promise<SessionRecord | undefined>;
  put(sessionId: string, record: SessionRecord): Promise<void>;
  /** Tells every instance that `sessionId` changed (they re-read it). */
  announce(sessionId: string): Promise<void>;
  /** Calls `handler` with each announced session id (on this instance). */
  onChange(handler: (sessionId: string) => void): Promise<void>;
  /** Replaces this instance's presence: user id → open sessions; expires after `ttlMs`. */
  setPresence(serverId: string, users: ReadonlyMap<string, number>, ttlMs: number): Promise<void>;
  clearPresence(serverId: string): Promise<void>;
  presence(): Promise<InstancePresence[]>;
  close(): Promise<void>;
}

/** The directory in Redis: a hash per session, a hash per instance, one pub/sub channel. */
export class RedisSessionDirectory implements SessionDirectory {
  private subscriber?: Redis;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const [userId, spec] = await this.redis.hmget(
      this.keys.sseSession(sessionId),
      'userId',
      'spec',
    );
    return userId && spec ? { userId, spec: JSON.parse(spec) as SubscriptionSpec } : undefined;
  }

  async put(sessionId: string, record: SessionRecord): Promise<void> {
    const key = this.keys.sseSession(sessionId);
    await this.redis
      .multi()
      .hset(key, 'userId', record.userId, 'spec', JSON.stringify(record.spec))
      .expire(key, SESSION_TTL_S)
      .exec();
  }

  async announce(sessionId: string): Promise<void> {
    await this.redis.publish(this.keys.sseChanges, sessionId);
  }

  async onChange(handler: (sessionId: string) => void): Promise<void> {
    this.subscriber ??= this.redis.duplicate();
    this.subscriber.on('error', () => {});
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.sseChanges) handler(message);
    });
    await this.subscriber.subscribe(this.keys.sseChanges);
  }

  async setPresence(
    serverId: string,
    users: ReadonlyMap<string, number>,
    ttlMs: number,
  ): Promise<void> {
    const key = this.keys.presence(serverId);
    const tx = this.redis.multi().del(key);
    if (users.size) tx.hset(key, Object.fromEntries(users)).pexpire(key, ttlMs);
    await tx.exec();
  }

  async clearPresence(serverId: string): Promise<void> {
    await this.redis.del(this.keys.presence(serverId));
  }

  async presence(): Promise<InstancePresence[]> {
    const prefix = this.keys.presence('');
    const found: InstancePresence[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const users = await this.redis.hgetall(key);
        const sessions = Object.values(users).reduce((n, v) => n + Number(v), 0);
        found.push({
          serverId: key.slice(prefix.length),
          sessions,
          users: Object.keys(users).sort(),
        });
      }
    } while (cursor !== '0');
    return found.sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}

/** The directory of one process (memory store). */
export class MemorySessionDirectory implements SessionDirectory {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly present = new Map<string, ReadonlyMap<string, number>>();
  private readonly changes = new EventEmitter();

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    return this.sessions.get(sessionId);
  }

  async put(sessionId: string, record: SessionRecord): Promise<void> {
    this.sessions.set(sessionId, record);
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
}
