import { expect } from 'chai';
import { partitionOfCommand } from '../../src/commands/partitioned-command-bus.js';
import { ValidationError } from '../../src/errors.js';
import { START } from '../../src/events/event-store.js';
import {
  compareMerged,
  decodeCursor,
  encodeCursor,
  entryTime,
} from '../../src/events/log-cursor.js';
import { PositionFormat } from '../../src/events/partition-positions.js';
import { partitionOf } from '../../src/events/partitions.js';

describe('whole-log cursor (log-cursor.ts)', () => {
  it('round-trips every partition position, START for an untouched log', () => {
    const ids = ['1733222222222-0', '0-0', '1733222222100-7', '1733222222222-18446744073709551615'];
    const cursor = encodeCursor(ids);
    expect(decodeCursor(cursor, 4)).to.deep.equal(ids);
    expect(encodeCursor(['0-0', '0-0'])).to.equal(START);
    expect(decodeCursor(START, 3)).to.deep.equal(['0-0', '0-0', '0-0']);
    expect(decodeCursor(undefined, 2)).to.deep.equal(['0-0', '0-0']);
  });

  it('stays short for busy partitions and within the RPC bound at 256 partitions', () => {
    const busy = encodeCursor(Array.from({ length: 16 }, (_, p) => `1733222222${200 + p}-0`));
    expect(busy.length).to.be.below(16 * 3 + 20);
    const spread = encodeCursor(Array.from({ length: 256 }, (_, p) => `${1_000_000 + p * 1e9}-5`));
    expect(spread.length).to.be.below(256 * 24 + 32); // events.readAll's afterPosition bound
    expect(decodeCursor(spread, 256)[3]).to.equal(`${1_000_000 + 3e9}-5`);
  });

  it('reads a globalPosition as the merged log up to that event', () => {
    expect(decodeCursor('1:1000-3', 3)).to.deep.equal([
      '1000-18446744073709551615',
      '1000-3',
      '999-18446744073709551615',
    ]);
  });

  it('refuses malformed cursors and cursors of another PARTITIONS with ValidationError', () => {
    const six = encodeCursor(Array.from({ length: 6 }, () => '1733222222222-0'));
    const cases: [string, RegExp][] = [
      ['nonsense', /not a cursor of this log/],
      [six, /made for 6 partitions, this deployment has 4/],
      ['4~abc~1.2.3', /holds 3 positions, not 4/],
      ['4~1~zz.0.0.0', /malformed/],
      ['9:1000-0', /no partition 9 here/],
    ];
    for (const [cursor, why] of cases) {
      try {
        decodeCursor(cursor, 4);
        expect.fail(`accepted ${cursor}`);
      } catch (error) {
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as Error).message).to.match(why);
      }
    }
  });

  it('merges by millisecond, then partition, then sequence', () => {
    const t = (id: string) => entryTime(id)!;
    expect(compareMerged(t('5-9'), 3, t('6-0'), 0)).to.equal(-1);
    expect(compareMerged(t('6-0'), 0, t('6-0'), 1)).to.equal(-1);
    expect(compareMerged(t('6-2'), 1, t('6-1'), 1)).to.equal(1);
  });
});

describe('partition positions and routing', () => {
  it('a partition store writes <p>:<id> and accepts only its own back', () => {
    const format = new PositionFormat(3);
    expect(format.out('17-2')).to.equal('3:17-2');
    expect(format.in('3:17-2')).to.equal('17-2');
    expect(format.in(START)).to.equal('0-0');
    expect(() => format.in('2:17-2')).to.throw(ValidationError, /of partition 3/);
    expect(() => format.in('17-2')).to.throw(ValidationError);
    const single = new PositionFormat();
    expect([single.out('17-2'), single.in('17-2')]).to.deep.equal(['17-2', '17-2']);
  });

  it("routes a command to its target stream's partition and refuses one without a stream", () => {
    const command = (streamId?: string) => ({
      id: 'c',
      type: 'Do',
      data: {},
      metadata: {
        commandId: 'c',
        userId: 'u',
        correlationId: 'c',
        timestamp: '',
        ...(streamId ? { streamId } : {}),
      },
    });
    const of = (id: string) => partitionOf(id, 6);
    for (const stream of ['trainer-ash', 'trainer-misty', 'deployment-7']) {
      expect(partitionOfCommand(command(stream), of)).to.equal(of(stream));
    }
    expect(() => partitionOfCommand(command(), of)).to.throw(/no metadata.streamId/);
  });
});
