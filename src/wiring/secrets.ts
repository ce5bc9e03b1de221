/**
 * Wiring of connection secrets: the instance's one `SecretBox`, sealing under `SECRET_KEY` and
 * opening under it or a rotated-out key of `SECRET_KEY_PREVIOUS` (README "Rotating SECRET_KEY").
 */
import type { Config } from '../config.js';
import { SecretBox } from '../connections/secret-box.js';
import type { Logger } from '../log.js';

/** The key box of an instance (or of `npm run rotate-secrets`); logs its key ids, never a key. */
export function secretBoxFor(config: Config, logger: Logger): SecretBox {
  const box = new SecretBox(config.SECRET_KEY, config.SECRET_KEY_PREVIOUS);
  logger.info('connection secrets are sealed with AES-256-GCM under SECRET_KEY', {
    component: 'connections',
    keyId: box.keyId,
    ...(box.keyIds.length > 1 ? { previousKeyIds: box.keyIds.slice(1) } : {}),
  });
  return box;
}
