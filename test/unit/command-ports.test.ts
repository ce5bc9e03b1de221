import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { commandPorts } from '../../src/commands/handlers.js';
import { MemorySecretStore, SecretBox } from '../../src/connections/index.js';
import { DomainRuleError } from '../../src/errors.js';

describe('commandPorts.storeSecret after a rotation (rotate-secrets re-sealed the secret)', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const id = 'gh_0123456789';
  /** Storing a secret reads no stream. */
  const noStreams = {
    readStream: () => Promise.reject(new Error('storeSecret must not read streams')),
  };

  async function refusal(run: () => Promise<void>): Promise<unknown> {
    try {
      await run();
    } catch (error) {
      return error;
    }
    return undefined;
  }

  it('takes a redelivered command sealed under the old key as the stored secret', async () => {
    const secrets = new MemorySecretStore();
    const box = new SecretBox(keyB, [keyA]);
    const sealedByA = new SecretBox(keyA).seal('{"kind":"github","token":"t"}', id);
    await secrets.put(id, box.seal('{"kind":"github","token":"t"}', id)); // re-sealed under B
    const ports = commandPorts(noStreams, secrets, box);
    expect(await refusal(() => ports.storeSecret(id, sealedByA))).to.equal(undefined);
    const other = new SecretBox(keyA).seal('{"kind":"github","token":"other"}', id);
    const thrown = await refusal(() => ports.storeSecret(id, other));
    expect(thrown).to.be.instanceOf(DomainRuleError);
    expect((thrown as DomainRuleError).message).to.include('already exists');
  });

  it('refuses it when no box can compare them', async () => {
    const secrets = new MemorySecretStore();
    await secrets.put(id, new SecretBox(keyB).seal('x', id));
    const ports = commandPorts(noStreams, secrets, new SecretBox(keyB));
    const thrown = await refusal(() => ports.storeSecret(id, new SecretBox(keyA).seal('x', id)));
    expect(thrown).to.be.instanceOf(DomainRuleError);
  });
});
