/**
 * The worker's side of a command's trace: one `process commands` span per entry (child of its
 * send), found again by the entry object for retries and the end. The entry handed to the
 * handlers carries the span's `traceparent`, so the events (and notifications) it commits name it.
 */
import type { Attributes, Span } from '@opentelemetry/api';
import { processSpan, type TracedCommand } from './hops.js';
import { traceparentOf, tracingOn } from './spans.js';

interface Entry<C extends TracedCommand> {
  readonly command: C;
  readonly deliveries: number;
}

const spans = new WeakMap<object, Span>();

/**
 * Starts a span for each entry of a batch read together; `reclaimed` (taken over from another
 * consumer) is recorded as an event. Returns the entries to process (the same ones with tracing off).
 */
export function traceEntries<E extends Entry<C>, C extends TracedCommand>(
  entries: readonly E[],
  group: string,
  reclaimed: boolean,
): readonly E[] {
  if (!tracingOn()) return entries;
  return entries.map((entry) => {
    const span = processSpan(entry.command, group, entry.deliveries);
    if (!span) return entry;
    if (reclaimed)
      span.addEvent('reclaimed', { 'streamcast.command.deliveries': entry.deliveries });
    const metadata = { ...entry.command.metadata, traceparent: traceparentOf(span) };
    const traced = { ...entry, command: { ...entry.command, metadata } };
    spans.set(traced, span);
    return traced;
  });
}

/** Records what happened to an entry (`retry`, `dead-lettered`) on its span, if it has one. */
export function noteEntry(entry: object, event: string, attributes: Attributes): void {
  spans.get(entry)?.addEvent(event, attributes);
}

/** Ends an entry's span (once it is settled, retried to its end, or dead-lettered). */
export function endEntry(entry: object): void {
  spans.get(entry)?.end();
  spans.delete(entry);
}
