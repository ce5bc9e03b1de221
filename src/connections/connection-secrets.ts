/**
 * The secrets of a connection as one sealed value: sealed by the instance that received them
 * (before anything reaches the command bus or Redis), bound to the connection id, and opened only
 * where they are used (a deployment runner).
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import type { ConnectionSecrets } from '../domain/connection/connection.js';
import type { SealedSecret, SecretBox } from './secret-box.js';
import type { SecretStore } from './secret-store.js';

export type {
  AwsSecrets,
  ConnectionSecrets,
  GitHubSecrets,
} from '../domain/connection/connection.js';

const secretsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('github'), token: z.string() }),
  z.object({
    kind: z.literal('aws'),
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    sessionToken: z.string().optional(),
  }),
]);

/** Seals `secrets` for `connectionId` (the id is authenticated with them). */
export function sealConnectionSecrets(
  box: SecretBox,
  connectionId: string,
  secrets: ConnectionSecrets,
): SealedSecret {
  return box.seal(JSON.stringify(secrets), connectionId);
}

/**
 * Opens the sealed secrets of `connectionId`. The answer prints as `[redacted]` in logs, JSON and
 * `util.inspect`; read its fields directly. Throws `SecretBoxError` for a wrong key or altered data.
 */
export function openConnectionSecrets(
  box: SecretBox,
  connectionId: string,
  sealed: SealedSecret,
): ConnectionSecrets {
  const plain = box.open(sealed, connectionId);
  let value: unknown;
  try {
    value = JSON.parse(plain);
  } catch {
    value = undefined; // V8's SyntaxError quotes the text it failed on: never rethrow it
  }
  const parsed = secretsSchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(`the secrets of connection ${connectionId} do not have a known shape`);
  }
  return unprintable(parsed.data);
}

/** The secrets of a stored connection, opened; undefined when none are stored. */
export async function readConnectionSecrets(
  store: SecretStore,
  box: SecretBox,
  connectionId: string,
): Promise<ConnectionSecrets | undefined> {
  const sealed = await store.get(connectionId);
  return sealed === undefined ? undefined : openConnectionSecrets(box, connectionId, sealed);
}

/** Keeps the fields readable but makes every printing of the object show `[redacted]`. */
function unprintable<T extends ConnectionSecrets>(secrets: T): T {
  const redacted = { kind: secrets.kind, secrets: '[redacted]' };
  Object.defineProperties(secrets, {
    toJSON: { value: () => redacted, enumerable: false },
    [inspect.custom]: { value: () => redacted, enumerable: false },
  });
  return Object.freeze(secrets);
}
