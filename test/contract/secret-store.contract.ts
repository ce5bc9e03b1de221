import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  type SealedSecret,
  SecretBox,
  SecretBoxError,
  SecretConflictError,
  type SecretStore,
} from '../../src/connections/index.js';

/** What a contract run needs from an adapter. */
export interface SecretStoreFixture {
  readonly store: SecretStore;
  /** Everything the adapter holds, as text (to see that nothing was written). */
  dump(): Promise<string>;
  cleanup(): Promise<void>;
}

/** The SecretStore contract (src/connections/secret-store.ts), run against every adapter. */
export function describeSecretStoreContract(
  adapter: string,
  makeFixture: () => Promise<SecretStoreFixture>,
): void {
  describe(`SecretStore contract: ${adapter}`, () => {
    const box = new SecretBox(randomBytes(32));
    let f: SecretStoreFixture;
    let store: SecretStore;
    beforeEach(async () => {
      f = await makeFixture();
      store = f.store;
    });
    afterEach(() => f.cleanup());

    it('answers what was put, exactly, and undefined for an unknown connection', async () => {
      const sealed = box.seal('{"kind":"github","token":"t"}', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', sealed);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(sealed);
      expect(await store.get('gh_bbbbbbbbbb')).to.equal(undefined);
    });

    it('keeps connections apart', async () => {
      const a = box.seal('a', 'gh_aaaaaaaaaa');
      const b = box.seal('b', 'aws_bbbbbbbbbb');
      await store.put('gh_aaaaaaaaaa', a);
      await store.put('aws_bbbbbbbbbb', b);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(a);
      expect(await store.get('aws_bbbbbbbbbb')).to.equal(b);
    });

    it('takes the same value again as a no-op (a redelivered command)', async () => {
      const sealed = box.seal('s', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', sealed);
      await store.put('gh_aaaaaaaaaa', sealed);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(sealed);
    });

    it('writes a connection once: another value is refused and the first one kept', async () => {
      const first = box.seal('first', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', first);
      let thrown: unknown;
      try {
        await store.put('gh_aaaaaaaaaa', box.seal('second', 'gh_aaaaaaaaaa'));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(SecretConflictError);
      expect((thrown as SecretConflictError).connectionId).to.equal('gh_aaaaaaaaaa');
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(first);
    });

    it('lets exactly one of many concurrent different writes win', async () => {
      const values = Array.from({ length: 20 }, (_, i) => box.seal(`v${i}`, 'gh_aaaaaaaaaa'));
      const results = await Promise.allSettled(values.map((v) => store.put('gh_aaaaaaaaaa', v)));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [values[i]] : []));
      expect(won).to.have.length(1);
      expect(results.filter((r) => r.status === 'rejected')).to.have.length(19);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(won[0]);
    });

    it('refuses plain text before writing anything', async () => {
      const before = await f.dump();
      for (const plain of ['ghp_plainTokenValue0123456789', '', 'v1.nothing.sealed']) {
        let thrown: unknown;
        try {
          await store.put('gh_aaaaaaaaaa', plain as SealedSecret);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, plain).to.be.instanceOf(SecretBoxError);
        expect((thrown as Error).message).not.to.include('plainTokenValue');
      }
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(undefined);
      expect(await f.dump()).to.equal(before);
    });

    it('forgets a connection on delete, once', async () => {
      await store.put('gh_aaaaaaaaaa', box.seal('s', 'gh_aaaaaaaaaa'));
      expect(await store.delete('gh_aaaaaaaaaa')).to.equal(true);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(undefined);
      expect(await store.delete('gh_aaaaaaaaaa')).to.equal(false);
      const again = box.seal('again', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', again);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(again);
    });

    it('replaces a secret only where the expected value is stored (compare-and-set)', async () => {
      const old = box.seal('s', 'gh_aaaaaaaaaa');
      const next = box.seal('s', 'gh_aaaaaaaaaa');
      expect(await store.replace('gh_aaaaaaaaaa', old, next), 'absent').to.equal(false);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(undefined);
      await store.put('gh_aaaaaaaaaa', old);
      const other = box.seal('other', 'gh_aaaaaaaaaa');
      expect(await store.replace('gh_aaaaaaaaaa', other, next), 'changed').to.equal(false);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(old);
      expect(await store.replace('gh_aaaaaaaaaa', old, next)).to.equal(true);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(next);
    });

    it('lets exactly one of many concurrent replaces of one value win', async () => {
      const old = box.seal('s', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', old);
      const values = Array.from({ length: 20 }, () => box.seal('s', 'gh_aaaaaaaaaa'));
      const won = await Promise.all(values.map((v) => store.replace('gh_aaaaaaaaaa', old, v)));
      expect(won.filter(Boolean)).to.have.length(1);
      expect(await store.get('gh_aaaaaaaaaa')).to.equal(values[won.indexOf(true)]);
    });

    it('refuses to replace with plain text, writing nothing', async () => {
      const old = box.seal('s', 'gh_aaaaaaaaaa');
      await store.put('gh_aaaaaaaaaa', old);
      const before = await f.dump();
      let thrown: unknown;
      try {
        await store.replace('gh_aaaaaaaaaa', old, 'ghp_plainTokenValue' as SealedSecret);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(SecretBoxError);
      expect(await f.dump()).to.equal(before);
    });

    it('scans every stored connection id, page by page', async () => {
      const ids = Array.from({ length: 57 }, (_, i) => `gh_${String(i).padStart(10, '0')}`);
      for (const id of ids) await store.put(id, box.seal('s', id));
      const seen = new Set<string>();
      let cursor = '0';
      let pages = 0;
      do {
        const page = await store.scan(cursor, 10);
        for (const id of page.connectionIds) seen.add(id);
        cursor = page.cursor;
        pages += 1;
      } while (cursor !== '0');
      expect([...seen].sort()).to.deep.equal(ids);
      expect(pages).to.be.greaterThan(1);
    });
  });
}
