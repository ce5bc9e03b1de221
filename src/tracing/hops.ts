/**
 * One function per hop of a command's trace (issue 16), named and attributed after the
 * OpenTelemetry messaging conventions: `{operation} {destination}`, `messaging.system` =
 * streamcast. Each returns undefined (and does nothing) while tracing is off.
 *
 *   POST /rpc (server) → send commands (producer) → process commands (consumer, per command)
 *   → settle commands (the batch's commit: linked to every command's trace)
 *   process events (a projection batch, linked to its events' traces)
 *   send notifications (SSE fan-out of one notification, linked to the command that caused it)
 */
import { type Attributes, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { startSpan, tracingOn } from './spans.js';

/** Attribute names (messaging semantic conventions, and streamcast's own). */
export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  destinationTemplate: 'messaging.destination.template',
  group: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  correlationId: 'streamcast.correlation_id',
  commandType: 'streamcast.command.type',
  deliveries: 'streamcast.command.deliveries',
  streams: 'streamcast.streams',
  sessions: 'streamcast.sse.sessions',
} as const;

/** Where a hop's messages go: the command stream, the global log, the notifications stream. */
export const DESTINATION = {
  commands: 'commands',
  events: 'events',
  notifications: 'notifications',
} as const;

type Operation = 'send' | 'receive' | 'process' | 'settle';

function messaging(operation: Operation, destination: string, more: Attributes): Attributes {
  return {
    [ATTR.system]: 'streamcast',
    [ATTR.operationType]: operation,
    [ATTR.operationName]: operation,
    [ATTR.destination]: destination,
    ...more,
  };
}

/** What the hops need to know of a command. */
export interface TracedCommand {
  readonly id: string;
  readonly type: string;
  readonly metadata: {
    readonly correlationId: string;
    readonly traceparent?: string | undefined;
    readonly tracestate?: string | undefined;
  };
}

/** The enqueue of a command and the wait for its answer (producer), child of the request span. */
export function sendSpan(
  command: Omit<TracedCommand, 'metadata'>,
  correlationId: string,
  parent: { readonly traceparent?: string; readonly tracestate?: string },
): Span | undefined {
  if (!tracingOn()) return undefined;
  return startSpan(`send ${DESTINATION.commands}`, {
    kind: SpanKind.PRODUCER,
    parent: parent.traceparent,
    parentState: parent.tracestate,
    attributes: messaging('send', DESTINATION.commands, {
      [ATTR.messageId]: command.id,
      [ATTR.commandType]: command.type,
      [ATTR.correlationId]: correlationId,
    }),
  });
}

/** The handling of one command by a worker (consumer), child of its send span. */
export function processSpan(
  command: TracedCommand,
  group: string,
  deliveries: number,
): Span | undefined {
  if (!tracingOn()) return undefined;
  return startSpan(`process ${DESTINATION.commands}`, {
    kind: SpanKind.CONSUMER,
    parent: command.metadata.traceparent,
    parentState: command.metadata.tracestate,
    // the correlation id is on the send span of the same trace; deliveries only past the first
    attributes: messaging('process', DESTINATION.commands, {
      [ATTR.messageId]: command.id,
      [ATTR.commandType]: command.type,
      [ATTR.group]: group,
      ...(deliveries > 1 ? { [ATTR.deliveries]: deliveries } : {}),
    }),
  });
}

/** Entity stream ids with their id replaced (`trainer-ash` → `trainer-{id}`): low cardinality. */
export function streamTemplate(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : `${streamId.slice(0, dash)}-{id}`;
}

/**
 * The commit of a batch (settle: it acknowledges the commands with their events): a child of the
 * first traced operation, linked to every one's trace.
 */
export function settleSpan(
  traceparents: readonly (string | undefined)[],
  streamIds: readonly string[],
): Span | undefined {
  if (!tracingOn()) return undefined;
  const streams = [...new Set(streamIds.map(streamTemplate))];
  return startSpan(`settle ${DESTINATION.commands}`, {
    kind: SpanKind.CLIENT,
    parent: traceparents.find((t) => t !== undefined),
    links: traceparents,
    attributes: messaging('settle', DESTINATION.commands, {
      [ATTR.batchCount]: traceparents.length,
      [ATTR.streams]: streams,
      ...(streams.length === 1 ? { [ATTR.destinationTemplate]: streams[0] } : {}),
    }),
  });
}

/** A projection's batch of events (consumer), linked to the trace of each event. */
export function projectionSpan(
  projection: string,
  events: readonly { readonly metadata: { readonly traceparent?: string } }[],
): Span | undefined {
  if (!tracingOn()) return undefined;
  const traceparents = events.map((e) => e.metadata.traceparent);
  return startSpan(`process ${DESTINATION.events}`, {
    kind: SpanKind.CONSUMER,
    links: traceparents,
    attributes: messaging('process', DESTINATION.events, {
      [ATTR.group]: projection,
      [ATTR.batchCount]: traceparents.length,
    }),
  });
}

/**
 * The delivery of one notification to the sessions of this instance it reached (producer: it
 * sends frames), linked to the command that caused it; one span per notification, not per session.
 */
export function recordFanOut(
  notification: { readonly id: string; readonly method: string; readonly traceparent?: string },
  sessions: number,
): void {
  if (!tracingOn()) return;
  startSpan(`send ${DESTINATION.notifications}`, {
    kind: SpanKind.PRODUCER,
    links: [notification.traceparent],
    attributes: messaging('send', DESTINATION.notifications, {
      [ATTR.messageId]: notification.id,
      [ATTR.sessions]: sessions,
      'rpc.method': notification.method,
    }),
  }).end();
}

/** Ends a span with the error that stopped its work. */
export function endWithError(span: Span | undefined, error: unknown): void {
  if (!span) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  span.end();
}
