import { expect } from 'chai';
import { silentLogger } from '../../src/index.js';
import { Hub } from '../../src/sse/hub.js';
import type { NotificationEntry, NotificationLog } from '../../src/sse/notification-log.js';

describe('Hub: notifications lost while its tail was away from Redis (DESIGN.md G5)', () => {
  it('checks what it had delivered when Redis went away, not what it delivered once back', async () => {
    let ids = ['1-0', '2-0', '3-0'];
    let epoch = 'e1';
    const entry = (id: string) => ({ id }) as NotificationEntry;
    let tail = { handler: (_: readonly NotificationEntry[]) => {}, interrupted: () => {} };
    const log: NotificationLog = {
      epoch: async () => epoch,
      renewEpoch: async (old) => {
        if (epoch === old) epoch = 'e2';
        return epoch;
      },
      retention: async () => ({ newest: ids.at(-1)!, oldest: ids[0]!, trimmed: false }),
      range: async (after, until, count) =>
        ids
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
    try {
      expect(hub.position).to.equal('e1:3-0');
      tail.interrupted(); // Redis went away …
      ids = ['1-0', '9-0']; // … came back without 2-0 and 3-0, and took a new notification
      tail.handler([entry('9-0')]);
      await new Promise((resolve) => setTimeout(resolve, 100)); // a few checks (every 20 ms)
      expect(hub.position).to.equal('e2:9-0');
    } finally {
      await hub.close();
    }
  });
});
