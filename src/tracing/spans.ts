/**
 * The tracer of streamcast and the few helpers every hop uses. Spans are made only once the SDK
 * started (`tracingStarted`): with tracing off each helper returns at its first line, so the
 * command path pays one boolean test per hop and loads nothing.
 */
import {
  type Attributes,
  context,
  createTraceState,
  type Link,
  type Span,
  type SpanKind,
  type TraceState,
  trace,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';
import { formatTraceparent, parseTraceparent } from './traceparent.js';

let started = false;

/** True once the SDK runs (set by `startTracing`); every hop checks it first. */
export function tracingOn(): boolean {
  return started;
}

/** Marks the SDK as running (or stopped): only `startTracing` and its shutdown call it. */
export function markTracing(on: boolean): void {
  started = on;
}

const tracer = () => trace.getTracer('streamcast', VERSION);

/** How to start a span: its kind, attributes, parent and links as `traceparent` texts. */
export interface SpanStart {
  readonly kind: SpanKind;
  readonly attributes: Attributes;
  /** The parent's `traceparent`; none (or a malformed one): the span starts a trace. */
  readonly parent?: string | undefined;
  /** The parent's `tracestate`, kept by the span and its children. */
  readonly parentState?: string | undefined;
  /** `traceparent`s of the spans this one is linked to (malformed ones are left out). */
  readonly links?: readonly (string | undefined)[];
}

/** Starts a span (tracing must be on: callers test `tracingOn()` first). */
export function startSpan(name: string, start: SpanStart): Span {
  const remote = parseTraceparent(start.parent);
  const parent =
    remote && start.parentState ? { ...remote, traceState: stateOf(start.parentState) } : remote;
  const ctx = parent ? trace.setSpanContext(context.active(), parent) : context.active();
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const text of start.links ?? []) {
    const linked = parseTraceparent(text);
    if (!linked || seen.has(linked.spanId)) continue;
    seen.add(linked.spanId);
    links.push({ context: linked });
  }
  return tracer().startSpan(
    name,
    {
      kind: start.kind,
      attributes: start.attributes,
      ...(links.length > 0 ? { links } : {}),
      ...(parent ? {} : { root: true }),
    },
    ctx,
  );
}

/** The `traceparent` that names `span` (to carry in metadata). */
export function traceparentOf(span: Span): string {
  return formatTraceparent(span.spanContext());
}

/** The `tracestate` `span` carries (its parent's), if any. */
export function tracestateOf(span: Span): string | undefined {
  return span.spanContext().traceState?.serialize() || undefined;
}

function stateOf(text: string): TraceState {
  return createTraceState(text);
}
