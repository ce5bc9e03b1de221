import { createDecipheriv, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { expect } from 'chai';
import {
  assertSealed,
  isSealed,
  keyIdOf,
  openConnectionSecrets,
  type SealedSecret,
  SecretBox,
  SecretBoxError,
  sealConnectionSecrets,
  sealedKeyId,
} from '../../src/connections/index.js';

const key = randomBytes(32);
const box = new SecretBox(key);
const FORMAT = /^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{22}$/;
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;

/** The thrown SecretBoxError of `run`. */
function failure(run: () => unknown): SecretBoxError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(SecretBoxError);
    return error as SecretBoxError;
  }
  return expect.fail('expected a SecretBoxError');
}

/** `sealed` with the character at `index` of part `part` (0 = version) changed. */
function altered(sealed: string, part: number, index = 0): string {
  const parts = sealed.split('.');
  const text = parts[part]!;
  const char = text[index] === 'A' ? 'B' : 'A';
  parts[part] = `${text.slice(0, index)}${char}${text.slice(index + 1)}`;
  return parts.join('.');
}

describe('SecretBox (AES-256-GCM under SECRET_KEY)', () => {
  it('opens what it sealed: ASCII, Unicode, empty and long texts', () => {
    for (const text of [TOKEN, 'pässwörd "quoted" \\ 🔑', '', 'x'.repeat(10_000)]) {
      const sealed = box.seal(text, 'gh_0123456789');
      expect(sealed).to.match(FORMAT);
      expect(box.open(sealed, 'gh_0123456789')).to.equal(text);
    }
  });

  it('is AES-256-GCM with a 12-byte IV, a 16-byte tag and the header as associated data', () => {
    const sealed = box.seal(TOKEN, 'ctx');
    const [version, keyId, iv, data, tag] = sealed.split('.') as [string, ...string[]];
    expect(Buffer.from(iv!, 'base64url')).to.have.length(12);
    expect(Buffer.from(tag!, 'base64url')).to.have.length(16);
    // decrypted with node:crypto directly, from the documented format alone
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
    decipher.setAAD(Buffer.from(`${version}.${keyId}.ctx`));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    const plain = Buffer.concat([
      decipher.update(Buffer.from(data!, 'base64url')),
      decipher.final(),
    ]);
    expect(plain.toString('utf8')).to.equal(TOKEN);
  });

  it('uses a fresh IV every time: the same secret never seals to the same text', () => {
    const seen = new Set(Array.from({ length: 50 }, () => box.seal(TOKEN)));
    expect(seen.size).to.equal(50);
    const ivs = new Set([...seen].map((s) => s.split('.')[2]));
    expect(ivs.size).to.equal(50);
  });

  it('does not hold the secret in any form in the sealed text', () => {
    const sealed = box.seal(TOKEN);
    for (const form of [
      TOKEN,
      Buffer.from(TOKEN).toString('base64').slice(0, 40),
      Buffer.from(TOKEN).toString('base64url').slice(0, 40),
      Buffer.from(TOKEN).toString('hex'),
    ]) {
      expect(sealed).not.to.include(form);
    }
  });

  it('names a wrong SECRET_KEY as such, with both key ids', () => {
    const other = new SecretBox(randomBytes(32));
    expect(other.keyId).to.match(/^[0-9a-f]{8}$/);
    expect(other.keyId).not.to.equal(box.keyId);
    const error = failure(() => other.open(box.seal(TOKEN)));
    expect(error.reason).to.equal('wrong-key');
    expect(error.message).to.include(box.keyId).and.include(other.keyId).and.include('SECRET_KEY');
  });

  it('derives the key id from the key alone', () => {
    expect(new SecretBox(Buffer.from(key)).keyId).to.equal(box.keyId);
    const sealed = box.seal(TOKEN);
    expect(new SecretBox(Buffer.from(key)).open(sealed)).to.equal(TOKEN);
  });

  it('refuses altered ciphertext, IV, tag or key id, and another context', () => {
    const sealed = box.seal(TOKEN, 'gh_aaaaaaaaaa');
    for (const part of [2, 3, 4]) {
      const error = failure(() => box.open(altered(sealed, part, 3), 'gh_aaaaaaaaaa'));
      expect(error.reason, `part ${part}`).to.equal('unauthentic');
    }
    expect(failure(() => box.open(sealed, 'gh_bbbbbbbbbb')).reason).to.equal('unauthentic');
    expect(failure(() => box.open(sealed)).reason).to.equal('unauthentic');
    const otherKeyId = sealed.replace(/^v1\.[0-9a-f]{8}/, 'v1.00000000');
    expect(failure(() => box.open(otherKeyId, 'gh_aaaaaaaaaa')).reason).to.equal('wrong-key');
  });

  it('refuses what is not a sealed secret, and other format versions', () => {
    const sealed = box.seal(TOKEN);
    for (const bad of [TOKEN, '', sealed.slice(0, -1), `${sealed}.x`, sealed.replace(/\./g, ':')]) {
      expect(failure(() => box.open(bad)).reason).to.equal('malformed');
    }
    expect(failure(() => box.open(sealed.replace(/^v1/, 'v2'))).reason).to.equal('version');
  });

  it('has one text per sealed secret: stray bits in a last base64url character are refused', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sealed = box.seal(TOKEN);
    const last = alphabet.indexOf(sealed.at(-1)!);
    // a 16-byte tag is 22 characters: the last one carries 2 bits, its low 4 bits are padding
    const stray = `${sealed.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(stray.split('.')[4]!, 'base64url')).to.deep.equal(
      Buffer.from(sealed.split('.')[4]!, 'base64url'),
    );
    expect(failure(() => box.open(stray)).reason).to.equal('malformed');
  });

  it('never puts the secret or the sealed text in an error message', () => {
    const sealed = box.seal(TOKEN, 'c');
    const messages = [
      failure(() => box.open(altered(sealed, 3), 'c')).message,
      failure(() => new SecretBox(randomBytes(32)).open(sealed, 'c')).message,
      failure(() => box.open(TOKEN)).message,
      failure(() => assertSealed(TOKEN)).message,
    ];
    for (const message of messages) {
      expect(message).not.to.include(TOKEN);
      expect(message).not.to.include(sealed.split('.')[3]!.slice(0, 12));
    }
  });

  it('refuses a key that is not 32 bytes, without quoting it', () => {
    const short = randomBytes(16);
    const error = failure(() => new SecretBox(short));
    expect(error.reason).to.equal('key');
    expect(error.message).to.include('32 bytes').and.not.include(short.toString('base64'));
  });

  it('never shows its key when printed', () => {
    const printed = `${JSON.stringify(box)} ${inspect(box, { showHidden: true, depth: 5 })}`;
    expect(printed).to.include(box.keyId);
    expect(printed).not.to.include(key.toString('base64'));
    expect(printed).not.to.include(key.toString('hex'));
  });

  it('tells sealed secrets from anything else by form', () => {
    expect(isSealed(box.seal(TOKEN))).to.equal(true);
    expect(isSealed(TOKEN)).to.equal(false);
    expect(isSealed(42)).to.equal(false);
    expect(() => assertSealed(box.seal(''))).not.to.throw();
  });
});

describe('connection secrets (sealed for one connection)', () => {
  it('opens the GitHub and AWS secrets for their own connection only', () => {
    const github = sealConnectionSecrets(box, 'gh_0123456789', { kind: 'github', token: TOKEN });
    expect(openConnectionSecrets(box, 'gh_0123456789', github)).to.deep.include({
      kind: 'github',
      token: TOKEN,
    });
    expect(() => openConnectionSecrets(box, 'gh_9876543210', github)).to.throw(SecretBoxError);
    const aws = {
      kind: 'aws',
      accessKeyId: 'AKIA0123456789ABCDEF',
      secretAccessKey: 's/k+',
    } as const;
    const sealed: SealedSecret = sealConnectionSecrets(box, 'aws_0123456789', aws);
    expect(openConnectionSecrets(box, 'aws_0123456789', sealed)).to.deep.include(aws);
  });

  it('prints opened secrets as [redacted] in JSON and util.inspect', () => {
    const opened = openConnectionSecrets(
      box,
      'gh_0123456789',
      sealConnectionSecrets(box, 'gh_0123456789', { kind: 'github', token: TOKEN }),
    );
    expect(opened.kind === 'github' && opened.token).to.equal(TOKEN);
    expect(JSON.stringify({ opened })).to.equal(
      '{"opened":{"kind":"github","secrets":"[redacted]"}}',
    );
    expect(inspect(opened)).not.to.include(TOKEN);
    expect(`${JSON.stringify(opened)}`).not.to.include(TOKEN);
  });

  it('refuses plaintext that is not a known secrets shape without quoting it', () => {
    const sealed = box.seal(`{"kind":"other","token":"${TOKEN}"`, 'gh_0123456789');
    expect(() => openConnectionSecrets(box, 'gh_0123456789', sealed))
      .to.throw(/known shape/)
      .that.satisfies((e: Error) => !e.message.includes(TOKEN));
  });
});

describe('SecretBox with previous keys (SECRET_KEY_PREVIOUS)', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const boxA = new SecretBox(keyA);

  it('seals under the current key and opens what any of its keys sealed', () => {
    const rotated = new SecretBox(keyB, [keyA]);
    const old = boxA.seal(TOKEN, 'gh_0123456789');
    expect(rotated.open(old, 'gh_0123456789')).to.equal(TOKEN);
    const fresh = rotated.seal(TOKEN, 'gh_0123456789');
    expect(sealedKeyId(fresh)).to.equal(rotated.keyId).and.equal(keyIdOf(keyB));
    expect(sealedKeyId(old)).to.equal(boxA.keyId);
    expect(rotated.keyIds).to.deep.equal([keyIdOf(keyB), keyIdOf(keyA)]);
    // a box without the previous key refuses the old value as sealed under another key
    expect(failure(() => new SecretBox(keyB).open(old, 'gh_0123456789')).reason).to.equal(
      'wrong-key',
    );
  });

  it('still binds a secret to its context under a previous key', () => {
    const old = boxA.seal(TOKEN, 'gh_0123456789');
    const rotated = new SecretBox(keyB, [keyA]);
    expect(failure(() => rotated.open(old, 'gh_9999999999')).reason).to.equal('unauthentic');
  });

  it('refuses a key given twice, and a key that is not 32 bytes', () => {
    expect(failure(() => new SecretBox(keyB, [keyA, keyA])).reason).to.equal('key');
    expect(failure(() => new SecretBox(keyB, [keyB])).reason).to.equal('key');
    expect(failure(() => new SecretBox(keyB, [randomBytes(16)])).reason).to.equal('key');
  });

  it('tells the key id of a sealed value, and nothing for other text', () => {
    expect(sealedKeyId('not sealed')).to.equal(undefined);
    expect(sealedKeyId(boxA.seal('x'))).to.match(/^[0-9a-f]{8}$/);
  });
});
