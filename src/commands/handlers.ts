import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandHandler } from './command-bus.js';

/** The handler of every command type this instance serves, by command type. */
export function commandHandlers(
  _store: EventStore,
  _config: Config,
): Record<string, CommandHandler> {
  return {};
}
