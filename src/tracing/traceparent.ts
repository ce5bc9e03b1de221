/**
 * The W3C trace context header (`traceparent: 00-<trace id>-<span id>-<flags>`), read and written
 * by hand: with tracing off no propagator is registered, yet a request's traceparent must still
 * reach its events' metadata (SPEC.md §4).
 */
import type { SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** `tracestate` is at most 32 list members of at most 256 characters (W3C): 512 is generous for one header. */
const MAX_TRACESTATE = 512;

/** The span context a `traceparent` names (remote), or undefined when it is malformed or invalid. */
export function parseTraceparent(header: unknown): SpanContext | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim());
  // version ff is forbidden; a future version may append fields (the `-.*` tail), 00 may not
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return undefined;
  const [, , traceId, spanId, flags] = m;
  // all-zero ids are invalid (W3C); the pattern already checked the rest
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16) & 1,
    isRemote: true,
  };
}

/** The `traceparent` of a span context (version 00). */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** A request's `traceparent` as version 00, or undefined when unusable (W3C: then ignore it). */
export function cleanTraceparent(header: unknown): string | undefined {
  const context = parseTraceparent(header);
  return context && formatTraceparent(context);
}

/** A request's `tracestate`, kept verbatim when it is short printable text; else dropped. */
export function cleanTracestate(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length === 0 || header.length > MAX_TRACESTATE) {
    return undefined;
  }
  return /^[\x20-\x7e]+$/.test(header) ? header : undefined;
}
