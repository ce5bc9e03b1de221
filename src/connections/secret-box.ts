/**
 * AES-256-GCM encryption of connection secrets under `SECRET_KEY` (SPEC.md §7). A sealed secret is
 * one compact, versioned string, `v1.<keyId>.<iv>.<ciphertext>.<tag>`: the key id is 8 hex digits
 * derived from the key (so a wrong key is told apart from altered data), the rest base64url; the
 * IV is 12 random bytes per seal and the tag 16 bytes. The version, key id and a caller's context
 * (the connection id) are authenticated as associated data, so a sealed secret opens only under
 * its key and for the connection it was sealed for. A box seals under its current key and opens
 * under whichever of its keys (current or previous, `SECRET_KEY_PREVIOUS`) the key id names, so
 * `SECRET_KEY` can be rotated (README "Rotating SECRET_KEY").
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { StreamcastError } from '../errors.js';

declare const sealed: unique symbol;

/** Ciphertext made by `SecretBox.seal`: the only form in which a secret may be stored or sent. */
export type SealedSecret = string & { readonly [sealed]: true };

/** Why a sealed secret could not be opened (or a key not used). */
export type SecretBoxFailure = 'key' | 'malformed' | 'version' | 'wrong-key' | 'unauthentic';

/** A secret could not be sealed or opened; the message never holds the secret or its ciphertext. */
export class SecretBoxError extends StreamcastError {
  readonly code = 'SECRET_BOX';
  constructor(
    readonly reason: SecretBoxFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The format version this code writes (and the only one it reads). */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const B64URL = '[A-Za-z0-9_-]';
/** `v1.<8 hex>.<16 base64url = 12 bytes>.<base64url>.<22 base64url = 16 bytes>` */
const FORMAT = new RegExp(
  `^(v[0-9]+)\\.([0-9a-f]{8})\\.(${B64URL}{16})\\.(${B64URL}*)\\.(${B64URL}{22})$`,
);

/** True when `value` has the form of a sealed secret (it says nothing of whether it opens). */
export function isSealed(value: unknown): value is SealedSecret {
  return typeof value === 'string' && FORMAT.test(value);
}

/** Throws unless `value` has the form of a sealed secret: stores call it so plain text never lands. */
export function assertSealed(value: unknown): asserts value is SealedSecret {
  if (!isSealed(value)) {
    throw new SecretBoxError(
      'malformed',
      `a sealed secret must look like ${VERSION}.<keyId>.<iv>.<ciphertext>.<tag>; refusing to store anything else`,
    );
  }
}

/** The key id of a sealed secret (8 hex digits), or undefined when `value` is not one. */
export function sealedKeyId(value: string): string | undefined {
  return FORMAT.exec(value)?.[2];
}

/** 8 hex digits identifying a 32-byte key (HMAC-SHA256 of a constant), safe to log. */
export function keyIdOf(key: Uint8Array): string {
  if (key.length !== 32) {
    throw new SecretBoxError(
      'key',
      `SECRET_KEY must be 32 bytes, got ${key.length}; make one with: openssl rand -base64 32`,
    );
  }
  return createHmac('sha256', key).update('streamcast secret key id').digest('hex').slice(0, 8);
}

/**
 * Seals secrets under the current 32-byte key (`SECRET_KEY`, shared by every instance) and opens
 * them under the current key or any previous one (`SECRET_KEY_PREVIOUS`), chosen by key id.
 */
export class SecretBox {
  readonly #key: Buffer;
  /** Every key this box opens with, by key id (the current one included). */
  readonly #keys = new Map<string, Buffer>();
  /** The key id of the current key, safe to log. */
  readonly keyId: string;

  constructor(key: Uint8Array, previous: readonly Uint8Array[] = []) {
    this.keyId = keyIdOf(key);
    this.#key = Buffer.from(key);
    this.#keys.set(this.keyId, this.#key);
    for (const old of previous) {
      const id = keyIdOf(old);
      if (this.#keys.has(id)) {
        throw new SecretBoxError('key', `key ${id} is given twice (SECRET_KEY_PREVIOUS)`);
      }
      this.#keys.set(id, Buffer.from(old));
    }
  }

  /** The key ids this box opens (current first), safe to log. */
  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypts `plaintext` with a fresh random IV; `context` must be given again to open it. */
  seal(plaintext: string, context = ''): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(VERSION, this.keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((b) => b.toString('base64url'));
    return `${VERSION}.${this.keyId}.${parts.join('.')}` as SealedSecret;
  }

  /**
   * Decrypts a sealed secret made under one of this box's keys for the same `context`. Throws
   * `SecretBoxError`: `malformed` or `version` for a string that is not one, `wrong-key` when a key
   * this box does not have sealed it, `unauthentic` when it was altered or sealed for another context.
   */
  open(value: string, context = ''): string {
    const match = FORMAT.exec(value);
    if (!match) {
      throw new SecretBoxError(
        'malformed',
        `the sealed secret is malformed: expected ${VERSION}.<keyId>.<iv>.<ciphertext>.<tag>`,
      );
    }
    // every group of FORMAT matches whenever it does
    const [, version = '', keyId = '', ...rest] = match;
    const encoded = rest.map((part = '') => part);
    const [iv, ciphertext, tag] = encoded.map((part) => Buffer.from(part, 'base64url')) as [
      Buffer,
      Buffer,
      Buffer,
    ];
    // one text per sealed secret: refuse non-canonical base64url (stray bits in a last character)
    if (encoded.some((part, i) => [iv, ciphertext, tag][i]!.toString('base64url') !== part)) {
      throw new SecretBoxError(
        'malformed',
        'the sealed secret is malformed: non-canonical base64url',
      );
    }
    if (version !== VERSION) {
      throw new SecretBoxError(
        'version',
        `the secret was sealed in format ${version}; this version of streamcast reads ${VERSION} only`,
      );
    }
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new SecretBoxError(
        'wrong-key',
        `the secret was sealed under another SECRET_KEY (key id ${keyId}, this instance has ${this.keyIds.join(', ')}): every instance must share the same SECRET_KEY, and keep a rotated-out key in SECRET_KEY_PREVIOUS until rotate-secrets re-sealed everything`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(version, keyId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(
        'unauthentic',
        'the sealed secret does not authenticate: it was altered, or sealed for another connection',
      );
    }
  }

  /** Never shows the key. */
  toJSON(): { keyId: string; keyIds: string[] } {
    return { keyId: this.keyId, keyIds: this.keyIds };
  }
}

/** Version, key id and context, bound to the ciphertext (fixed-length prefix: unambiguous). */
function associatedData(version: string, keyId: string, context: string): Buffer {
  return Buffer.from(`${version}.${keyId}.${context}`, 'utf8');
}
