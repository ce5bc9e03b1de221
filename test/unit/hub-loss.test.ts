import { expect } from 'chai';
import { silentLogger } from '../../src/index.js';
import { Hub } from '../../src/sse/hub.js';
import type { NotificationEntry, NotificationLog } from '../../src/sse/notification-log.js';

describe('Hub: notifications lost while its tail was away from Redis (DESIGN.md G5)', () => {
  /** A hub on a log whose entries and tail the test moves by hand; checks every 20 ms. */
  async function hubOn(initial: string[]) {
    const state = { ids: initial, epoch: 'e1' };
    let tail = { handler: (_: readonly NotificationEntry[]) => {}, interrupted: () => {} };
    const log: NotificationLog = {
      epoch: async () => state.epoch,
      renewEpoch: async (old) => {
        if (state.epoch === old) state.epoch = 'e2';
        return state.epoch;
      },
      retention: async () => ({
        newest: state.ids.at(-1)!,
        oldest: state.ids[0]!,
        trimmed: false,
      }),
      range: async (after, until, count) =>
        state.ids
          .filter((id) => id > after && id <= until)
          .slice(0, count)
          .map(entry),
      follow: (_after, handler, onInterrupted = () => {}) => {
        tail = { handler, interrupted: onInterrupted };
        return { close: async () => {} };
      },
    };
    const hub = new Hub({ log, serverId: 's', heartbeatMs: 20, logger: silentLogger });
    await hub.start();
    return { hub, state, tail: () => tail };
  }
  const entry = (id: string) => ({ id }) as NotificationEntry;
  const aFewChecks = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('checks what it had delivered when Redis went away, not what it delivered once back', async () => {
    const { hub, state, tail } = await hubOn(['1-0', '2-0', '3-0']);
    try {
      expect(hub.position).to.equal('e1:3-0');
      tail().interrupted(); // Redis went away …
      state.ids = ['1-0', '9-0']; // … came back without 2-0 and 3-0, and took a new notification
      tail().handler([entry('9-0')]);
      await aFewChecks();
      expect(hub.position).to.equal('e2:9-0');
    } finally {
      await hub.close();
    }
  });

  it('checks every interruption since the last check: a later one does not vouch for an earlier', async () => {
    const { hub, state, tail } = await hubOn(['1-0']);
    try {
      tail().interrupted(); // a connection lost with nothing at stake (1-0 is kept) …
      state.ids = ['1-0', '2-0', '3-0'];
      tail().handler([entry('2-0'), entry('3-0')]);
      tail().interrupted(); // … then a failover that loses 2-0 and 3-0, before any check ran
      state.ids = ['1-0', '9-0'];
      tail().handler([entry('9-0')]);
      await aFewChecks();
      expect(hub.position).to.equal('e2:9-0');
    } finally {
      await hub.close();
    }
  });
});
