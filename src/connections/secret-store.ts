import { StreamcastError } from '../errors.js';
import type { SealedSecret } from './secret-box.js';

/**
 * Where connection secrets live, outside the event log (DESIGN.md §3 `{sc}:secret:<connectionId>`).
 * Adapters: Redis, memory. Contract:
 * - it holds sealed secrets only: `put` refuses any value that is not a `SealedSecret` in form,
 *   before writing anything;
 * - a connection's secret is written once: `put` of the same value again is a no-op (a redelivered
 *   command), a different value for a stored connection throws `SecretConflictError` and leaves the
 *   stored one as it was; the check and the write are one atomic step;
 * - `get` answers the stored value exactly, or undefined; `delete` forgets it.
 */
export interface SecretStore {
  /** Stores a connection's sealed secrets, once (see the contract above). */
  put(connectionId: string, secret: SealedSecret): Promise<void>;
  /** The connection's sealed secrets, or undefined when none are stored. */
  get(connectionId: string): Promise<SealedSecret | undefined>;
  /** Forgets the connection's secrets; true when there were some. */
  delete(connectionId: string): Promise<boolean>;
}

/** Another secret is already stored for this connection id (ids are never reused). */
export class SecretConflictError extends StreamcastError {
  readonly code = 'SECRET_CONFLICT';
  constructor(readonly connectionId: string) {
    super(`connection ${connectionId} already has other secrets stored; they were left unchanged`);
  }
}
