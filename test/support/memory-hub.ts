import {
  DEFAULT_STORE_SETTINGS,
  Hub,
  MemoryEventStore,
  MemoryNotificationLog,
  silentLogger,
} from '../../src/index.js';

/** A memory store and a (not yet started) hub delivering its notifications, heartbeats off. */
export function memoryHub(): { store: MemoryEventStore; hub: Hub } {
  const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
  const hub = new Hub({
    log: new MemoryNotificationLog(store.notifications),
    serverId: 'test',
    heartbeatMs: 60_000,
    logger: silentLogger,
  });
  return { store, hub };
}
