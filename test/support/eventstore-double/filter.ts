/**
 * Server-side filters of a `$all` subscription, following docs/clients/grpc/subscriptions.md
 * "Server-side filtering" (EventStore/documentation): by event type or stream name, with a
 * regular expression or a list of prefixes (any prefix matches). `excludeSystemEvents()` is the
 * client's event-type regex `^[^$].*` (`dist/utils/filter.js`), which drops `$`-prefixed types.
 * The server evaluates .NET regular expressions; the double uses JavaScript's, which agree on the
 * simple patterns these filters use.
 */
import type { StreamsPb } from './protocol.js';
import type { StoredEvent } from './store.js';

/** Whether an event passes; `undefined` options mean no filter. */
export type EventFilter = (event: StoredEvent) => boolean;

/** The filter a `ReadReq.Options.FilterOptions` describes. */
export function compileFilter(options: StreamsPb.ReadReq.Options.FilterOptions): EventFilter {
  const onStream = options.hasStreamIdentifier();
  const expression = onStream ? options.getStreamIdentifier() : options.getEventType();
  const subject = (event: StoredEvent) => (onStream ? event.streamName : event.type);
  const regex = expression?.getRegex() ?? '';
  const prefixes = expression?.getPrefixList() ?? [];
  if (regex !== '') {
    const pattern = new RegExp(regex);
    return (event) => pattern.test(subject(event));
  }
  if (prefixes.length > 0) {
    return (event) => prefixes.some((prefix) => subject(event).startsWith(prefix));
  }
  return () => true;
}

/**
 * How many events (matching or not) the server scans between two checkpoints: the checkpoint
 * interval multiplier times the search window, the window being `max` (the client's
 * `maxSearchWindow`) or 32 when the client sends `count` — "The checkpoint interval parameter
 * configures the database to notify the client after n * 32 number of events"
 * (docs/clients/grpc/subscriptions.md, "Configuring the checkpoint interval"); in the server,
 * `_maxSearchWindow = maxSearchWindow ?? ReadBatchSize` (32) and
 * `_checkpointInterval = checkpointIntervalMultiplier * _maxSearchWindow`
 * (Enumerators.AllSubscriptionFiltered).
 */
export function checkpointInterval(options: StreamsPb.ReadReq.Options.FilterOptions): number {
  const window = options.hasMax() ? options.getMax() : 32;
  const multiplier = Math.max(1, options.getCheckpointintervalmultiplier());
  return Math.max(1, window) * multiplier;
}
