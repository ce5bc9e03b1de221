import { expect } from 'chai';
import {
  keySlot,
  keysFor,
  partitioningFor,
  partitionOf,
  partitionTags,
  recordDigest,
  SLOTS,
} from '../../src/index.js';

/** How many of `tags` each of 3 masters holds, split as `redis-cli --cluster create` splits slots. */
function perMaster(tags: readonly string[]): number[] {
  const counts = [0, 0, 0];
  for (const tag of tags) {
    const slot = keySlot(`{${tag}}`);
    counts[slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2]! += 1;
  }
  return counts.sort();
}

describe('partitions', () => {
  it('computes Redis Cluster key slots (CRC16 of the hash tag)', () => {
    // values from CLUSTER KEYSLOT
    expect(keySlot('foo')).to.equal(12182);
    expect(keySlot('bar')).to.equal(5061);
    expect(keySlot('123456789')).to.equal(12739);
    expect(keySlot('{user1000}.following')).to.equal(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).to.equal(keySlot('foo{}{bar}')); // empty tag: whole key
    expect(keySlot('{sc}:s:trainer-1')).to.equal(keySlot('sc'));
  });

  it('chooses tags whose slots spread evenly: 16 partitions on 3 masters are 6/5/5', () => {
    const tags = partitionTags('sc', 16);
    expect(new Set(tags).size).to.equal(16);
    expect(perMaster(tags)).to.deep.equal([5, 5, 6]);
    tags.forEach((tag, p) => {
      expect(Math.floor((keySlot(`{${tag}}`) * 16) / SLOTS)).to.equal(p);
    });
    // the naive tags land unevenly (DESIGN.md §8): one master would carry 7 of 16
    const naive = Array.from({ length: 16 }, (_, p) => `sc:${p}`);
    expect(perMaster(naive)).to.deep.equal([4, 5, 7]);
  });

  it('derives the same tags every time and for every instance', () => {
    expect(partitionTags('sc', 64)).to.deep.equal(partitionTags('sc', 64));
    expect(partitionTags('app', 4)).to.not.deep.equal(partitionTags('sc', 4));
  });

  it('puts a stream in one stable partition, spread over all of them', () => {
    expect(partitionOf('trainer-1', 1)).to.equal(0);
    expect(partitionOf('trainer-1', 16)).to.equal(partitionOf('trainer-1', 16));
    const seen = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) seen[partitionOf(`trainer-${i}`, 16)]! += 1;
    for (const n of seen) expect(n).to.be.within(800, 1200);
  });

  it('keeps one partition on exactly today’s keys', () => {
    const one = partitioningFor('sc', 1);
    expect(one.keys).to.have.length(1);
    const today = keysFor('sc');
    for (const k of [one.keys[0]!, one.shared]) {
      expect([
        k.tag,
        k.all,
        k.commands,
        k.notify,
        k.done('u:c'),
        k.lease('p'),
        k.servers,
      ]).to.deep.equal([
        today.tag,
        '{sc}:all',
        '{sc}:cmd',
        '{sc}:notify',
        `{sc}:c:${recordDigest('u:c')}`,
        '{sc}:proj:p:lease',
        '{sc}:servers',
      ]);
    }
    expect(one.keys[0]!.all).to.equal('{sc}:all');
    expect(one.keys[0]!.stream('trainer-1')).to.equal('{sc}:s:trainer-1');
  });

  it('gives partition keys their tag and keeps shared keys on {prefix}', () => {
    const four = partitioningFor('sc', 4);
    const k = four.keys[four.of('trainer-1')]!;
    expect(k.stream('trainer-1')).to.match(/^\{sc:\d\.\d+\}:s:trainer-1$/);
    expect(keySlot(k.stream('trainer-1'))).to.equal(keySlot(k.all));
    expect(keySlot(k.commands)).to.equal(keySlot(k.notify));
    expect(k.secret('gh_1')).to.equal('{sc}:secret:gh_1');
    expect(k.servers).to.equal('{sc}:servers');
    expect(k.meta).to.equal('{sc}:meta');
  });

  it('refuses a partition count out of range', () => {
    expect(() => partitioningFor('sc', 0)).to.throw(/PARTITIONS/);
    expect(() => partitioningFor('sc', 257)).to.throw(/PARTITIONS/);
  });
});
