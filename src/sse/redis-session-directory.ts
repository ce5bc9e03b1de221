/** The session directory in Redis: a hash per session, a zset per user, one pub/sub channel. */

import { closeOnce } from '../events/close-once.js';
import type { Keys } from '../events/keys.js';
import { LuaScript } from '../events/lua-script.js';
import { dedicated, masters, type RedisClient } from '../events/redis-connection.js';
import {
  type DirectoryLimits,
  type InstancePresence,
  type KeepOutcome,
  SESSION_TTL_S,
  type SessionDirectory,
  type SessionRecord,
} from './directory.js';
import { subscriptionSpecSchema } from './routing.js';

const keepScript = LuaScript.load(new URL('./lua/keep-session-2.lua', import.meta.url));

/** The directory every instance on one Redis shares. */
export class RedisSessionDirectory implements SessionDirectory {
  private subscriber?: RedisClient;
  private readonly ttlMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly limits: DirectoryLimits,
  ) {
    this.ttlMs = limits.ttlMs ?? SESSION_TTL_S * 1000;
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const [userId, spec] = await this.redis.hmget(
      this.keys.sseSession(sessionId),
      'userId',
      'spec',
    );
    if (!userId || !spec) return undefined;
    const parsed = subscriptionSpecSchema.safeParse(JSON.parse(spec));
    return parsed.success ? { userId, spec: parsed.data } : undefined;
  }

  async keep(sessionId: string, record: SessionRecord, replace: boolean): Promise<KeepOutcome> {
    const kept = await keepScript.run(
      this.redis,
      [this.keys.sseSession(sessionId), this.keys.sseUserSessions(record.userId)],
      [
        sessionId,
        record.userId,
        JSON.stringify(record.spec),
        this.ttlMs,
        this.limits.maxSessionsPerUser,
        replace ? '1' : '0',
      ],
    );
    return kept.status === 'ok' ? 'kept' : 'too-many';
  }

  async announce(sessionId: string): Promise<void> {
    await this.redis.spublish(this.keys.sseChanges, sessionId);
  }

  async onChange(handler: (sessionId: string) => void): Promise<void> {
    this.subscriber ??= dedicated(this.redis);
    this.subscriber.on('error', () => {});
    this.subscriber.on('smessage', (channel: string, message: string) => {
      if (channel === this.keys.sseChanges) handler(message);
    });
    await this.subscriber.ssubscribe(this.keys.sseChanges);
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
    // SCAN runs per node: every master (on one server, the server)
    for (const node of masters(this.redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
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
    }
    return found.sort((a, b) => (a.serverId < b.serverId ? -1 : 1));
  }

  readonly close = closeOnce(async (): Promise<void> => {
    this.subscriber?.disconnect();
  });
}
