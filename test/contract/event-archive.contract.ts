import { expect } from 'chai';
import type { ArchivedEvent, EventArchive } from '../../src/archive/event-archive.js';

/** What a contract run needs from an adapter. */
export interface EventArchiveFixture {
  readonly archive: EventArchive;
  cleanup(): Promise<void>;
}

/** An archived event of `streamId` at `version`, at entry `<ms>-<seq>` of `partition`. */
export function archived(
  partition: number,
  ms: number,
  streamId: string,
  version: number,
  seq = 0,
): ArchivedEvent {
  const entryId = `${ms}-${seq}`;
  return {
    partition,
    entryId,
    event: {
      id: `${streamId}-${version}`,
      type: 'TrainerMoved',
      schemaVersion: 1,
      streamId,
      version,
      globalPosition: entryId,
      data: {
        x: version,
        y: -version / 2,
        note: 'é ✓ "quoted" \\ and a NUL: \u0000',
        list: [1, null],
      },
      metadata: {
        correlationId: `c-${version}`,
        commandId: `cmd-${version}`,
        userId: 'ash',
        serverId: 's1',
        timestamp: '2026-12-03T13:00:00.000Z',
      },
    },
  };
}

const ids = (events: readonly ArchivedEvent[]) => events.map((e) => e.entryId);

/** The EventArchive contract (src/archive/event-archive.ts), run against every adapter. */
export function describeEventArchiveContract(
  adapter: string,
  makeFixture: () => Promise<EventArchiveFixture>,
): void {
  describe(`EventArchive contract: ${adapter}`, () => {
    let f: EventArchiveFixture;
    let archive: EventArchive;
    beforeEach(async () => {
      f = await makeFixture();
      archive = f.archive;
    });
    afterEach(() => f.cleanup());

    /** Events 1..n of stream `s`, at entries 1000+i-0 of partition 0. */
    const run = (from: number, to: number, streamId = 's') =>
      Array.from({ length: to - from + 1 }, (_, i) =>
        archived(0, 1000 + from + i, streamId, from + i),
      );

    it('is empty at first: checkpoint 0-0, no log, no stream', async () => {
      expect(await archive.archivedUpTo(0)).to.equal('0-0');
      expect(await archive.readLog(0, '0-0', 10)).to.deep.equal([]);
      expect(
        await archive.readStream('s', { fromVersion: 1, direction: 'forward', limit: 10 }),
      ).to.deep.equal([]);
    });

    it('archives a batch with its checkpoint and reads it back equal (a NUL in a string too), in log order', async () => {
      const batch = run(1, 5);
      expect(await archive.write(0, 1, batch)).to.equal(true);
      expect(await archive.archivedUpTo(0)).to.equal('1005-0');
      expect(await archive.readLog(0, '0-0', 100)).to.deep.equal(batch);
      expect(ids(await archive.readLog(0, '1002-0', 2))).to.deep.equal(['1003-0', '1004-0']);
    });

    it('reads a stream forward and backward from a version, at most limit', async () => {
      await archive.write(0, 1, [...run(1, 4), ...run(5, 6, 'other')]);
      const versions = async (
        fromVersion: number,
        direction: 'forward' | 'backward',
        limit: number,
      ) => (await archive.readStream('s', { fromVersion, direction, limit })).map((e) => e.version);
      expect(await versions(2, 'forward', 10)).to.deep.equal([2, 3, 4]);
      expect(await versions(1, 'forward', 2)).to.deep.equal([1, 2]);
      expect(await versions(3, 'backward', 10)).to.deep.equal([3, 2, 1]);
      expect(await versions(4, 'backward', 1)).to.deep.equal([4]);
      const [first] = await archive.readStream('s', {
        fromVersion: 1,
        direction: 'forward',
        limit: 1,
      });
      expect(first).to.deep.equal(run(1, 1)[0]!.event);
    });

    it('orders entry ids as numbers, not text (9-0 < 10-0, 5-9 < 5-10)', async () => {
      const batch = [
        archived(0, 5, 'a', 1, 9),
        archived(0, 5, 'a', 2, 10),
        archived(0, 9, 'a', 3),
        archived(0, 10, 'a', 4),
      ];
      await archive.write(0, 1, batch);
      expect(ids(await archive.readLog(0, '0-0', 10))).to.deep.equal([
        '5-9',
        '5-10',
        '9-0',
        '10-0',
      ]);
      expect(ids(await archive.readLog(0, '5-9', 10))).to.deep.equal(['5-10', '9-0', '10-0']);
      expect(await archive.archivedUpTo(0)).to.equal('10-0');
    });

    it('archives a batch written twice, or overlapping, once', async () => {
      await archive.write(0, 1, run(1, 3));
      expect(await archive.write(0, 1, run(1, 3))).to.equal(true);
      expect(await archive.write(0, 1, run(2, 6))).to.equal(true);
      expect(ids(await archive.readLog(0, '0-0', 100))).to.deep.equal(ids(run(1, 6)));
      expect(await archive.archivedUpTo(0)).to.equal('1006-0');
    });

    it('refuses a stale fence and writes nothing; a newer fence takes over', async () => {
      expect(await archive.write(0, 2, run(1, 2))).to.equal(true);
      expect(await archive.write(0, 1, run(3, 4)), 'stale fence').to.equal(false);
      expect(await archive.archivedUpTo(0)).to.equal('1002-0');
      expect(await archive.write(0, 3, run(3, 4))).to.equal(true);
      expect(await archive.write(0, 2, run(5, 5)), 'the old holder').to.equal(false);
      expect(ids(await archive.readLog(0, '0-0', 100))).to.deep.equal(ids(run(1, 4)));
    });

    it('keeps partitions apart: own checkpoints, own logs, one fence each', async () => {
      await archive.write(0, 5, run(1, 2));
      const other = [archived(1, 2000, 'p1', 1), archived(1, 2001, 'p1', 2)];
      expect(await archive.write(1, 1, other), 'a lower fence on another partition').to.equal(true);
      expect(await archive.archivedUpTo(1)).to.equal('2001-0');
      expect(await archive.archivedUpTo(0)).to.equal('1002-0');
      expect(await archive.readLog(1, '0-0', 10)).to.deep.equal(other);
      expect(ids(await archive.readLog(0, '0-0', 10))).to.deep.equal(['1001-0', '1002-0']);
    });

    it('an empty batch keeps the checkpoint', async () => {
      await archive.write(0, 1, run(1, 2));
      expect(await archive.write(0, 1, [])).to.equal(true);
      expect(await archive.archivedUpTo(0)).to.equal('1002-0');
    });

    describe('bad input throws, naming the fix, and writes nothing', () => {
      const refused = async (events: ArchivedEvent[], pattern: RegExp) => {
        await archive.write(0, 1, run(1, 1));
        let error: Error | undefined;
        try {
          await archive.write(0, 1, events);
        } catch (e) {
          error = e as Error;
        }
        expect(error?.message).to.match(pattern);
        expect(ids(await archive.readLog(0, '0-0', 100))).to.deep.equal(['1001-0']);
        expect(await archive.archivedUpTo(0)).to.equal('1001-0');
      };

      it('a batch out of log order', () =>
        refused([run(3, 3)[0]!, run(2, 2)[0]!], /must be in log order/));
      it('an event of another partition', () =>
        refused([archived(1, 1005, 's', 2)], /write each partition's log apart/));
      it('an entry id that is not <ms>-<seq>', () =>
        refused([{ ...run(2, 2)[0]!, entryId: '1002' }], /like 1733222222222-0/));
      it('a stream version twice in the batch', () =>
        refused([archived(0, 1002, 's', 2), archived(0, 1003, 's', 2)], /appears twice/));
      it('a stream version archived already (at another entry)', () =>
        refused([archived(0, 1002, 's', 2), archived(0, 1003, 's', 1)], /archived already/));
      it('a readLog cursor that is not an entry id', async () => {
        let error: Error | undefined;
        await archive.readLog(0, 'nope', 1).catch((e: Error) => {
          error = e;
        });
        expect(error?.message).to.match(/"nope" is not a log entry id/);
      });
    });
  });
}
