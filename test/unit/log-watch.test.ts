import { expect } from 'chai';
import type { RecordedEvent } from '../../src/events/envelope.js';
import { LogWatch } from '../../src/events/log-watch.js';
import { compareStreamIds } from '../../src/events/stream-ids.js';
import { DEFAULT_STORE_SETTINGS, MemoryEventStore, silentLogger } from '../../src/index.js';

/** A store over the global positions in `log` (only what LogWatch reads). */
const storeOver = (log: string[]) =>
  Object.assign(new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 's' }), {
    head: async () => log.at(-1) ?? '0',
    readAll: async (options: { after?: string; limit?: number } = {}) => {
      const after = options.after ?? '0';
      const events = log
        .filter((p) => compareStreamIds(p, after) > 0)
        .slice(0, options.limit ?? 100)
        .map((globalPosition) => ({ globalPosition }) as RecordedEvent);
      return { events, nextPosition: events.at(-1)?.globalPosition ?? after, isEnd: true };
    },
  });

describe('LogWatch (DESIGN.md G5: the event log going back)', () => {
  it('raises the alarm only when the newest position goes back', async () => {
    const log = ['5-0'];
    const watch = new LogWatch(storeOver(log), silentLogger);
    await watch.check();
    log.push('9-0');
    await watch.check();
    expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([0, true]);
    log.splice(1, 1, '7-3'); // Redis lost the newest events
    await watch.check();
    expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([1, false]);
  });
});

describe('LogWatch: a loss hidden by events added after Redis came back', () => {
  it('raises the alarm when its high-water entry is gone, though newer ones follow', async () => {
    const log = ['100-0', '200-0', '300-0', '300-1'];
    const watch = new LogWatch(storeOver(log), silentLogger);
    await watch.check();
    log.push('400-0');
    await watch.check(); // high water 400-0; nothing lost yet
    expect(watch.losses).to.equal(0);
    log.splice(2); // Redis came back without 300-0, 300-1 and 400-0 …
    log.push('900-0'); // … and took a move at once, at the current time
    await watch.check();
    expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([1, false]);
  });

  it('stays quiet when trimming took its high-water entry along with everything before it', async () => {
    const log = ['100-0', '200-0'];
    const watch = new LogWatch(storeOver(log), silentLogger);
    await watch.check();
    log.splice(0, 2, '500-0');
    await watch.check();
    expect(watch.losses).to.equal(0);
  });
});

describe('LogWatch: checks that overlap while Redis is away', () => {
  it('raises no alarm when an older answer arrives after a newer one', async () => {
    const log = ['1-0'];
    const store = storeOver(log);
    const watch = new LogWatch(store, silentLogger);
    await watch.check();
    log.push('2-0');
    // Redis away: reads wait and are answered once it is back, not necessarily in order — the
    // first check's head (2-0) arrives after the second's (3-0)
    const answers = [
      { head: '2-0', afterMs: 20 },
      { head: '3-0', afterMs: 0 },
    ];
    store.head = async () => {
      const { head, afterMs } = answers.shift()!;
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      if (!log.includes(head)) log.push(head);
      return head;
    };
    await Promise.all([watch.check(), watch.check()]);
    expect(watch.losses).to.equal(0);
  });
});
