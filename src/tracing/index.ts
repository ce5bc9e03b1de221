/**
 * Tracing (issue 16): W3C trace context carried from the HTTP request through the command, its
 * events, projections and SSE delivery, with spans after the OpenTelemetry messaging conventions.
 * The API is always loaded (a no-op without the SDK); the SDK only by `startTracing`.
 */
export * from './hops.js';
export { type TraceContext, traceContextOf, traceRequests } from './http.js';
export { type StopTracing, startTracing } from './sdk.js';
export { OTEL_KEYS, type TracingSettings, tracingSettingsOf } from './settings.js';
export { startSpan, traceparentOf, tracestateOf, tracingOn } from './spans.js';
export {
  cleanTraceparent,
  cleanTracestate,
  formatTraceparent,
  parseTraceparent,
} from './traceparent.js';
