import { assertSealed, type SealedSecret } from './secret-box.js';
import { SecretConflictError, type SecretStore } from './secret-store.js';

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
}
