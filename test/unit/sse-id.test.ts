import { expect } from 'chai';
import fc from 'fast-check';
import {
  formatSseId,
  PositionVector,
  parseSseIdParts,
  sseIdCovered,
} from '../../src/sse/sse-id.js';
import { fuzzSettings } from '../support/arbitraries.js';

const NOW = 1_733_222_222_222;

/** A position as Redis hands them out: `0-0` (never written) or a millisecond and a sequence. */
const position = fc.oneof(
  { weight: 1, arbitrary: fc.constant('0-0') },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: NOW }), fc.integer({ min: 0, max: 46_655 }))
      .map(([ms, seq]) => `${ms}-${seq}`),
  },
);
const tag = fc.stringMatching(/^[a-f0-9]{12}$/);
const vector = (min: number, max: number) => fc.array(position, { minLength: min, maxLength: max });

async function property<T>(what: string, arbitrary: fc.Arbitrary<T>, run: (input: T) => void) {
  const settings = fuzzSettings(5000);
  await fc.assert(fc.property(arbitrary, run), settings);
  process.stdout.write(`      ${what}: seed ${settings.seed}, ${settings.numRuns} runs\n`);
}

describe('SSE ids: the delivered vector (DESIGN.md §8)', () => {
  it('keeps one partition’s ids exactly as they were: <epoch>:<entry id>', () => {
    expect(formatSseId('a1b2c3', ['1733222222222-7'])).to.equal('a1b2c3:1733222222222-7');
    const v = new PositionVector('e1', ['0-0']);
    expect(v.id).to.equal('e1:0-0');
    v.advance(0, '5-1');
    expect(v.id).to.equal('e1:5-1');
    expect(parseSseIdParts(' e1:5-1 ')).to.deep.equal({ tag: 'e1', positions: ['5-1'] });
  });

  it('reads back every partition’s position from a formatted vector (2 to 256 partitions)', async () => {
    await property('vector round trip', fc.tuple(tag, vector(2, 256)), ([t, positions]) => {
      const id = formatSseId(t, positions);
      expect(parseSseIdParts(id)).to.deep.equal({ tag: t, positions });
    });
  });

  it('builds the same id advancing one slot at a time as formatting the vector afresh', async () => {
    const steps = fc.array(fc.tuple(fc.nat(63), position), { minLength: 1, maxLength: 40 });
    await property(
      'incremental = afresh',
      fc.tuple(tag, vector(64, 64), steps),
      ([t, start, moves]) => {
        const v = new PositionVector(t, start);
        const positions = [...start];
        for (const [p, at] of moves) {
          v.advance(p, at);
          positions[p] = at;
          expect(parseSseIdParts(v.id)).to.deep.equal({ tag: t, positions });
        }
      },
    );
  });

  it('stays within 1 KB at 64 partitions, even with positions of 1970 and 46 655 entries in a millisecond', async () => {
    const worst = Array.from({ length: 64 }, (_, p) => `${p}-46655`);
    worst[0] = `${NOW}-46655`; // the newest sets the base: every other slot is as long as it gets
    const worstId = formatSseId('0123456789ab', worst);
    expect(worstId.length).to.be.at.most(1024);
    let longest = 0;
    await property('64 partitions', fc.tuple(tag, vector(64, 64)), ([t, positions]) => {
      longest = Math.max(longest, formatSseId(t, positions).length);
    });
    expect(longest).to.be.at.most(1024);
    // a busy deployment: every partition written within the last minute
    const busy = Array.from({ length: 64 }, (_, p) => `${NOW - p * 937}-${p % 3}`);
    const busyId = formatSseId('0123456789ab', busy);
    process.stdout.write(
      `      64 partitions: worst case ${worstId.length} bytes, longest of 5000 random vectors ${longest}, all written within a minute ${busyId.length}\n`,
    );
    expect(busyId.length).to.be.below(worstId.length);
    // what a frame costs: one partition moves, the id is joined once
    const v = new PositionVector('0123456789ab', busy);
    const frames = 100_000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < frames; i++) {
      v.advance(i % 64, `${NOW + i}-0`);
      if (v.id.length > 1024) expect.fail('an id past 1 KB');
    }
    const nsPerFrame = Number(process.hrtime.bigint() - started) / frames;
    process.stdout.write(`      64 partitions: ${Math.round(nsPerFrame)} ns per frame's id\n`);
  });

  it('refuses what is not an id of either form', () => {
    const good = formatSseId('0123456789ab', ['1733222222222-0', '0-0', '1733222222000-3']);
    expect(parseSseIdParts(good)?.positions).to.have.length(3);
    for (const bad of [
      '',
      'e1',
      'e1:',
      'e1:1-',
      'e1:10:1', // one slot: one partition is written the other way
      'e1:10:1.2.', // fine: an empty slot is 0-0
      'e1:10:11.2', // a slot past its base
      'e1:10:1.A',
      'e1:10:1.2:3',
      'e$:10:1.2',
      `e1:10:${'1.'.repeat(4000)}1`,
      'e1:zzzzzzzzzzzz:1.2',
    ]) {
      const parsed = parseSseIdParts(bad);
      if (bad === 'e1:10:1.2.') expect(parsed?.positions).to.deep.equal(['35-0', '34-0', '0-0']);
      else expect(parsed, bad).to.equal(undefined);
    }
  });

  it('reads any text as an id of valid positions or as none, never throwing', async () => {
    let accepted = 0;
    const nearly = fc
      .array(fc.stringMatching(/^[0-9a-z]{0,3}(-[0-9a-z]{1,3})?$/), { minLength: 1, maxLength: 8 })
      .map((slots) => `t1:zz:${slots.join('.')}`);
    await property('any text', fc.oneof(fc.string(), nearly), (text) => {
      const parts = parseSseIdParts(text);
      if (!parts) return;
      accepted += 1;
      for (const at of parts.positions) expect(at).to.match(/^\d{1,20}-\d{1,20}$/);
    });
    expect(accepted, 'some were ids').to.be.greaterThan(0);
  });

  it('covers an id when every partition is at or before it in the same epochs', () => {
    const a = formatSseId('t1', ['10-0', '20-1']);
    expect(sseIdCovered(a, formatSseId('t1', ['10-0', '20-1']))).to.equal(true);
    expect(sseIdCovered(a, formatSseId('t1', ['11-0', '20-1']))).to.equal(true);
    expect(sseIdCovered(a, formatSseId('t1', ['11-0', '20-0']))).to.equal(false);
    expect(sseIdCovered(a, formatSseId('t2', ['11-0', '21-0']))).to.equal(false);
    expect(sseIdCovered(a, undefined)).to.equal(false);
    expect(sseIdCovered('e:5-0', 'e:5-1')).to.equal(true);
    expect(sseIdCovered('e:5-2', 'e:5-1')).to.equal(false);
  });
});
