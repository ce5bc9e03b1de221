import { assertSealed, type SealedSecret } from './secret-box.js';
import { SecretConflictError, type SecretScanPage, type SecretStore } from './secret-store.js';

/** In-process `SecretStore` (the embedded backend and fast tests), with the Redis adapter's rules. */
export class MemorySecretStore implements SecretStore {
  private readonly secrets = new Map<string, SealedSecret>();

  async put(connectionId: string, secret: SealedSecret): Promise<void> {
    assertSealed(secret);
    const stored = this.secrets.get(connectionId);
    if (stored === undefined) this.secrets.set(connectionId, secret);
    else if (stored !== secret) throw new SecretConflictError(connectionId);
  }

  async get(connectionId: string): Promise<SealedSecret | undefined> {
    return this.secrets.get(connectionId);
  }

  async delete(connectionId: string): Promise<boolean> {
    return this.secrets.delete(connectionId);
  }

  async replace(
    connectionId: string,
    expected: SealedSecret,
    next: SealedSecret,
  ): Promise<boolean> {
    assertSealed(next);
    if (this.secrets.get(connectionId) !== expected) return false;
    this.secrets.set(connectionId, next);
    return true;
  }

  /** The cursor is the last id answered (ids in order, so later inserts are not skipped twice). */
  async scan(cursor: string, count: number): Promise<SecretScanPage> {
    const ids = [...this.secrets.keys()].sort().filter((id) => cursor === '0' || id > cursor);
    const page = ids.slice(0, Math.max(1, count));
    return { connectionIds: page, cursor: page.length < ids.length ? page.at(-1)! : '0' };
  }
}
