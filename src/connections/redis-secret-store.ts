import type { Redis } from 'ioredis';
import type { Keys } from '../events/keys.js';
import { assertSealed, type SealedSecret } from './secret-box.js';
import { SecretConflictError, type SecretStore } from './secret-store.js';

/**
 * `SecretStore` on Redis: one string per connection, `{sc}:secret:<connectionId>`, holding the
 * sealed secret and nothing else; no TTL (a connection's secrets last as long as the connection).
 */
export class RedisSecretStore implements SecretStore {
  constructor(
    private readonly redis: Redis,
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
}
