import type { Keys } from '../events/keys.js';
import { LuaScript } from '../events/lua-script.js';
import { nodeOf, type RedisClient } from '../events/redis-connection.js';
import { assertSealed, type SealedSecret } from './secret-box.js';
import { SecretConflictError, type SecretScanPage, type SecretStore } from './secret-store.js';

const replaceScript = LuaScript.load(new URL('./lua/replace-secret-1.lua', import.meta.url));

/**
 * `SecretStore` on Redis: one string per connection, `{sc}:secret:<connectionId>`, holding the
 * sealed secret and nothing else; no TTL (a connection's secrets last as long as the connection).
 */
export class RedisSecretStore implements SecretStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  async put(connectionId: string, secret: SealedSecret): Promise<void> {
    assertSealed(secret);
    // SET NX GET (Redis ≥ 7.0): writes only when absent and answers what was there, in one step
    const previous = await this.redis.set(this.keys.secret(connectionId), secret, 'NX', 'GET');
    if (previous !== null && previous !== secret) throw new SecretConflictError(connectionId);
  }

  async get(connectionId: string): Promise<SealedSecret | undefined> {
    const value = await this.redis.get(this.keys.secret(connectionId));
    return value === null ? undefined : (value as SealedSecret);
  }

  async delete(connectionId: string): Promise<boolean> {
    return (await this.redis.del(this.keys.secret(connectionId))) > 0;
  }

  async replace(
    connectionId: string,
    expected: SealedSecret,
    next: SealedSecret,
  ): Promise<boolean> {
    assertSealed(next);
    const reply = await replaceScript.run(
      this.redis,
      [this.keys.secret(connectionId)],
      [expected, next],
    );
    return reply.status === 'ok';
  }

  async scan(cursor: string, count: number): Promise<SecretScanPage> {
    const prefix = this.keys.secret('');
    // secrets share the prefix's tag: one slot, one node, where the cursor stays valid
    const [next, keys] = await nodeOf(this.redis, prefix).scan(
      cursor,
      'MATCH',
      `${prefix}*` /* KEY_PREFIX holds no glob characters (config.ts) */,
      'COUNT',
      count,
    );
    return { connectionIds: keys.map((k) => k.slice(prefix.length)), cursor: next };
  }
}
