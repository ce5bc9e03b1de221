import { expect } from 'chai';
import { partitionOf } from '../../src/events/partitions.js';
import { LeaseShare } from '../../src/projections/lease-share.js';
import { MemoryProjectionStore } from '../../src/projections/memory-projection-store.js';
import { mergedList } from '../../src/projections/merged-list.js';
import { partitionOfPosition } from '../../src/projections/partition-position.js';
import type { ProjectionStore } from '../../src/projections/projection-store.js';

/** `count` memory stores holding documents `ids`, each in the partition of its id. */
async function partitionedStores(ids: readonly string[], count: number) {
  const stores = Array.from({ length: count }, () => new MemoryProjectionStore(() => 0));
  let reads = 0;
  let docsRead = 0;
  const counted: ProjectionStore[] = stores.map((store) =>
    Object.assign(Object.create(store) as ProjectionStore, {
      list: async (name: string, options: { limit: number; after?: string }) => {
        reads += 1;
        const page = await store.list(name, options);
        docsRead += page.docs.length;
        return page;
      },
    }),
  );
  for (const [p, store] of stores.entries()) {
    const { fence } = (await store.acquire('p', 'a', 10_000))!;
    const writes = ids
      .filter((id) => partitionOf(id, count) === p)
      .map((id) => ({ id, set: { id } }));
    await store.commit('p', { fence, from: '0', to: '1', generation: 1, writes });
  }
  return { stores: counted, reads: () => reads, docsRead: () => docsRead };
}

describe('projections over partitions', () => {
  it('merges the partitions into id order a page at a time, the last id as cursor', async () => {
    const ids = Array.from({ length: 137 }, (_, i) => `t${String(i * 7919).padStart(6, '0')}`);
    const { stores, reads } = await partitionedStores(ids, 6);
    const held = stores.map((s) => s.list('p', { limit: 1000 }));
    const sizes = (await Promise.all(held)).map((page) => page.docs.length);
    expect(sizes.filter((n) => n > 0).length, 'partitions holding documents').to.equal(6);
    for (const limit of [1, 7, 50, 1000]) {
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      do {
        const page = await mergedList(stores, 'p', { limit, ...(after ? { after } : {}) });
        seen.push(...page.docs.map((d) => d.id));
        after = page.nextCursor;
        pages += 1;
      } while (after);
      expect(seen, `pages of ${limit}`).to.deep.equal([...ids].sort());
      expect(pages).to.equal(Math.floor(ids.length / limit) + 1);
    }
    process.stdout.write(`      partition sizes ${sizes.join('/')}, ${reads()} partition reads\n`);
  });

  it('reads about a page, not a page per partition (chunks refilled as used up)', async () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `t${String(i).padStart(5, '0')}`);
    const { stores, reads, docsRead } = await partitionedStores(ids, 16);
    const page = await mergedList(stores, 'p', { limit: 800 });
    expect(page.docs.map((d) => d.id)).to.deep.equal(ids.slice(0, 800));
    process.stdout.write(
      `      one page of 800 over 16 partitions: ${reads()} reads, ${docsRead()} documents read (a page from each: 12,800)\n`,
    );
    // chunks of 2·800/16 = 100 documents: 16 first reads, refilled only where used up
    expect(docsRead(), 'documents read for one page of 800').to.be.at.most(2400);
  });

  it('shares the leases out: ceil(PARTITIONS / live) each, one lease given up per excess', async () => {
    let live = 1;
    const share = new LeaseShare(6, async () => live, 0);
    for (let i = 0; i < 6; i++) {
      expect(await share.mayLead('p')).to.equal(true);
      share.began('p');
    }
    expect(await share.mayLead('p'), 'alone, it leads all 6').to.equal(false);
    live = 2;
    await share.refresh();
    const yields = Array.from({ length: 6 }, () => share.shouldYield('p')).filter(Boolean).length;
    expect(yields, 'leases given up when a second instance joins').to.equal(3);
    for (let i = 0; i < 3; i++) share.ended('p', true);
    expect(share.held('p')).to.equal(3);
    expect(share.shouldYield('p')).to.equal(false);
    expect(await share.mayLead('p'), 'at its share').to.equal(false);
    expect(await share.mayLead('other'), 'another projection has its own share').to.equal(true);
    live = 4;
    expect(await share.share()).to.equal(2);
  });

  it('reads a minPosition as the partition it names, refusing one out of range precisely', () => {
    expect(partitionOfPosition('1733222222222-0', 1)).to.equal(0);
    expect(partitionOfPosition('42', 1), 'a memory store count').to.equal(0);
    expect(partitionOfPosition('3:1733222222222-0', 6)).to.equal(3);
    expect(() => partitionOfPosition('6:1733222222222-0', 6)).to.throw(
      /names partition 6, but there are 6 \(0 to 5\)/,
    );
    expect(() => partitionOfPosition('1733222222222-0', 6)).to.throw(/<partition>:<entry id>/);
    expect(() => partitionOfPosition('0:1733222222222-0', 1)).to.throw(/not a position/);
  });
});
