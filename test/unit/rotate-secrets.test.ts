import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  MemorySecretStore,
  type SealedSecret,
  SecretBox,
  sealedKeyId,
} from '../../src/connections/index.js';
import { instancesOnOtherKeys, rotateSecrets } from '../../src/connections/rotate-secrets.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const boxA = new SecretBox(keyA);
const boxB = new SecretBox(keyB, [keyA]);
const idOf = (i: number) => `gh_${String(i).padStart(10, '0')}`;

describe('rotateSecrets (npm run rotate-secrets)', () => {
  async function storeWith(n: number, box: SecretBox): Promise<MemorySecretStore> {
    const store = new MemorySecretStore();
    for (let i = 0; i < n; i++) await store.put(idOf(i), box.seal(`token-${i}`, idOf(i)));
    return store;
  }

  it('re-seals every secret under the new key, and finds nothing to do the second time', async () => {
    const store = await storeWith(25, boxA);
    const pages: number[] = [];
    const first = await rotateSecrets({
      store,
      box: boxB,
      batch: 7,
      ratePerS: 0,
      onProgress: (c) => pages.push(c.scanned),
    });
    expect(first).to.deep.include({ scanned: 25, resealed: 25, current: 0, unreadable: [] });
    expect(pages).to.deep.equal([7, 14, 21, 25]);
    const onlyB = new SecretBox(keyB);
    for (let i = 0; i < 25; i++) {
      const sealed = (await store.get(idOf(i)))!;
      expect(sealedKeyId(sealed)).to.equal(boxB.keyId);
      expect(onlyB.open(sealed, idOf(i))).to.equal(`token-${i}`);
    }
    const second = await rotateSecrets({ store, box: boxB, batch: 7, ratePerS: 0 });
    expect(second).to.deep.include({ scanned: 25, resealed: 0, current: 25 });
  });

  it('leaves a secret no key opens as it was, reports it, and re-seals the rest', async () => {
    const store = await storeWith(5, boxA);
    const stranger = new SecretBox(randomBytes(32)).seal('x', 'gh_stranger00');
    await store.put('gh_stranger00', stranger);
    const counts = await rotateSecrets({ store, box: boxB, batch: 100, ratePerS: 0 });
    expect(counts.resealed).to.equal(5);
    expect(counts.unreadable).to.have.length(1);
    expect(counts.unreadable[0]!.connectionId).to.equal('gh_stranger00');
    expect(counts.unreadable[0]!.reason).to.match(/^wrong-key: /);
    expect(await store.get('gh_stranger00')).to.equal(stranger);
  });

  it('shares the work between runs at once: each secret re-sealed exactly once', async () => {
    const store = await storeWith(60, boxA);
    const writes: SealedSecret[] = [];
    const replace = store.replace.bind(store);
    store.replace = async (id, expected, next) => {
      const won = await replace(id, expected, next);
      if (won) writes.push(next);
      return won;
    };
    const runs = await Promise.all(
      [3, 5].map((batch) => rotateSecrets({ store, box: boxB, batch, ratePerS: 0 })),
    );
    expect(runs[0]!.resealed + runs[1]!.resealed).to.equal(60);
    expect(writes).to.have.length(60);
  });

  it('names the live instances that seal under another key (or an unknown one)', () => {
    const live = [
      { serverId: 'a', info: { secretKeyId: boxB.keyId } },
      { serverId: 'b', info: { secretKeyId: boxA.keyId } },
      { serverId: 'c', info: {} },
      { serverId: 'd', info: undefined },
    ];
    expect(instancesOnOtherKeys(live, boxB.keyId)).to.deep.equal([
      `b (key ${boxA.keyId})`,
      'c (key unknown)',
      'd (key unknown)',
    ]);
  });
});
