/**
 * Connection secrets (seed 003's GitHub token and AWS credentials): AES-256-GCM sealing under
 * `SECRET_KEY`, the `SecretStore` port that keeps sealed secrets outside the event log, and its
 * Redis and memory adapters.
 */
export * from './connection-secrets.js';
export { MemorySecretStore } from './memory-secret-store.js';
export { RedisSecretStore } from './redis-secret-store.js';
export {
  assertSealed,
  isSealed,
  keyIdOf,
  type SealedSecret,
  SecretBox,
  SecretBoxError,
  type SecretBoxFailure,
  sealedKeyId,
} from './secret-box.js';
export { SecretConflictError, type SecretStore } from './secret-store.js';
