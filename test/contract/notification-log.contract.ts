import { expect } from 'chai';
import type {
  EventStore,
  NotificationEntry,
  NotificationLog,
  NotificationRecord,
} from '../../src/index.js';

/** What a contract run needs: a log, and the event store whose appends write its notifications. */
export interface NotificationLogFixture {
  readonly log: NotificationLog;
  readonly store: EventStore;
  cleanup(): Promise<void>;
}

/** The NOTIFY_RETENTION fixtures must use, so the trimming case agrees. */
export const NOTIFY_TEST_RETENTION = 5;

let seq = 0;
const note = (i: number): NotificationRecord => ({
  method: 'message.test',
  params: { i },
  target: i % 2 ? 'user' : 'broadcast',
  targetIds: i % 2 ? ['ash', 'misty'] : [],
  ...(i % 3 ? { topic: `message.t${i}` } : {}),
});

/** Appends `count` events, each with one notification numbered from `from`. */
async function write(store: EventStore, from: number, count: number): Promise<void> {
  seq += 1;
  for (let i = from; i < from + count; i++) {
    await store.append(`messages-n${seq}`, [{ type: 'Sent', data: { i } }], {
      notifications: [note(i)],
    });
  }
}

const numbers = (entries: readonly NotificationEntry[]) => entries.map((e) => e.params.i);

/** Waits until `check` holds (a generous bound: no speed is asserted). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) expect.fail(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The NotificationLog contract (DESIGN.md §4, G5), run against every adapter. */
export function describeNotificationLogContract(
  name: string,
  makeFixture: () => Promise<NotificationLogFixture>,
): void {
  describe(`NotificationLog contract: ${name}`, function () {
    this.timeout(20_000);
    let fx: NotificationLogFixture;
    beforeEach(async () => {
      fx = await makeFixture();
    });
    afterEach(() => fx.cleanup());

    it('knows nothing of an empty stream, then the newest id of what was written', async () => {
      expect(await fx.log.retention()).to.deep.equal({ newest: '0-0', trimmed: false });
      await write(fx.store, 0, 3);
      const retention = await fx.log.retention();
      const all = await fx.log.range('0-0', retention.newest, 10);
      expect(retention.newest).to.equal(all.at(-1)!.id);
      expect(retention.oldest).to.equal(all[0]!.id);
      expect(retention.trimmed).to.equal(false);
    });

    it('reads a range after an id up to another, oldest first, with every field as written', async () => {
      await write(fx.store, 0, 4);
      const { newest } = await fx.log.retention();
      const all = await fx.log.range('0-0', newest, 10);
      expect(numbers(all)).to.deep.equal([0, 1, 2, 3]);
      expect(all[1]).to.deep.include({
        method: 'message.test',
        params: { i: 1 },
        target: 'user',
        targetIds: ['ash', 'misty'],
        topic: 'message.t1',
        serverId: 'test-server',
      });
      expect(all[0]).to.deep.include({ target: 'broadcast', targetIds: [], topic: '' });
      expect(numbers(await fx.log.range(all[0]!.id, all[2]!.id, 10))).to.deep.equal([1, 2]);
      expect(numbers(await fx.log.range('0-0', newest, 2))).to.deep.equal([0, 1]);
    });

    it('follows from an id: everything after it once, in order, then live, with no seam', async () => {
      await write(fx.store, 0, 3);
      const first = (await fx.log.range('0-0', (await fx.log.retention()).newest, 1))[0]!;
      const got: NotificationEntry[] = [];
      const tail = fx.log.follow(first.id, (entries) => got.push(...entries));
      try {
        await until(() => got.length >= 2, 'the backlog after the id');
        await write(fx.store, 3, 3);
        await until(() => got.length >= 5, 'the live entries');
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(numbers(got)).to.deep.equal([1, 2, 3, 4, 5]);
      } finally {
        await tail.close();
      }
      await write(fx.store, 6, 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(got).to.have.length(5); // closed: nothing more
    });

    it('trims past the retention and says so', async () => {
      await write(fx.store, 0, 250); // Redis trims MAXLEN ~ by whole nodes of 100 entries
      const retention = await fx.log.retention();
      expect(retention.trimmed).to.equal(true);
      const kept = await fx.log.range('0-0', retention.newest, 1000);
      expect(kept.length).to.be.below(250);
      expect(retention.oldest).to.equal(kept[0]!.id);
      expect(numbers(kept).at(-1)).to.equal(249);
    });

    it('keeps one epoch; renewing it from the current one starts another, from a stale one not', async () => {
      const epoch = await fx.log.epoch();
      expect(await fx.log.epoch()).to.equal(epoch);
      const renewed = await fx.log.renewEpoch(epoch);
      expect(await fx.log.epoch()).to.equal(renewed);
      expect(await fx.log.renewEpoch(`${epoch}-stale`)).to.equal(renewed);
    });
  });
}
