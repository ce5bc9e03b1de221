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
 * - `get` answers the stored value exactly, or undefined; `delete` forgets it;
 * - `replace` is a compare-and-set (rotate-secrets re-sealing under a new key): it writes only a
 *   sealed value, only where the stored value is exactly `expected`, in one atomic step;
 * - `scan` pages through every stored connection id: each id stored for the whole scan is answered
 *   at least once; a cursor of '0' starts and ends it.
 */
export interface SecretStore {
  /** Stores a connection's sealed secrets, once (see the contract above). */
  put(connectionId: string, secret: SealedSecret): Promise<void>;
  /** The connection's sealed secrets, or undefined when none are stored. */
  get(connectionId: string): Promise<SealedSecret | undefined>;
  /** Forgets the connection's secrets; true when there were some. */
  delete(connectionId: string): Promise<boolean>;
  /** Stores `next` where `expected` is stored; false (nothing written) when anything else is. */
  replace(connectionId: string, expected: SealedSecret, next: SealedSecret): Promise<boolean>;
  /** About `count` connection ids from `cursor` ('0' first), and the cursor after ('0': done). */
  scan(cursor: string, count: number): Promise<SecretScanPage>;
}

/** A page of `SecretStore.scan`. */
export interface SecretScanPage {
  readonly connectionIds: readonly string[];
  /** Where the next page starts; '0' when the scan is complete. */
  readonly cursor: string;
}

/** Another secret is already stored for this connection id (ids are never reused). */
export class SecretConflictError extends StreamcastError {
  readonly code = 'SECRET_CONFLICT';
  constructor(readonly connectionId: string) {
    super(`connection ${connectionId} already has other secrets stored; they were left unchanged`);
  }
}
