import { expect } from 'chai';
import { LogWatch } from '../../src/events/log-watch.js';
import { DEFAULT_STORE_SETTINGS, MemoryEventStore, silentLogger } from '../../src/index.js';

describe('LogWatch (DESIGN.md G5: the event log going back)', () => {
  it('raises the alarm only when the newest position goes back', async () => {
    let head = '5-0';
    const store = Object.assign(
      new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 's' }),
      {
        head: async () => head,
      },
    );
    const watch = new LogWatch(store, silentLogger);
    await watch.check();
    head = '9-0';
    await watch.check();
    expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([0, true]);
    head = '7-3'; // Redis lost the newest events
    await watch.check();
    expect([watch.losses, watch.readiness.check().ok]).to.deep.equal([1, false]);
  });
});
