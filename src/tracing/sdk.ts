/**
 * Starts the OpenTelemetry Node SDK — only when tracing is configured: its modules are imported
 * here, dynamically, so an instance with tracing off loads none of them. Spans go through a batch
 * processor to one OTLP/HTTP exporter (protobuf or JSON); no metrics, no logs, no automatic
 * instrumentation: streamcast makes its own spans (`hops.ts`) and carries the context itself.
 */
import type { Logger } from '../log.js';
import type { TracingSettings } from './settings.js';
import { markTracing } from './spans.js';

/** Stops the SDK after exporting the spans it still holds. */
export type StopTracing = () => Promise<void>;

async function exporterOf(settings: TracingSettings) {
  const config = { url: settings.url, headers: { ...settings.headers } };
  if (settings.exporter === 'console') {
    const { tracing } = await import('@opentelemetry/sdk-node');
    return new tracing.ConsoleSpanExporter();
  }
  if (settings.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(config);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(config);
}

async function samplerOf(settings: TracingSettings) {
  const { tracing } = await import('@opentelemetry/sdk-node');
  const ratio = new tracing.TraceIdRatioBasedSampler(settings.ratio);
  switch (settings.sampler) {
    case 'always_on':
      return new tracing.AlwaysOnSampler();
    case 'always_off':
      return new tracing.AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new tracing.ParentBasedSampler({ root: new tracing.AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new tracing.ParentBasedSampler({ root: new tracing.AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new tracing.ParentBasedSampler({ root: ratio });
  }
}

/** The URL without user and password (logs never carry credentials). */
function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Starts the SDK with `settings` and returns how to stop it (SIGTERM: spans are flushed). */
export async function startTracing(
  settings: TracingSettings,
  logger: Logger,
): Promise<StopTracing> {
  const { NodeSDK, resources, tracing } = await import('@opentelemetry/sdk-node');
  const exporter = await exporterOf(settings);
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    resource: resources.resourceFromAttributes(settings.resource),
    resourceDetectors: [resources.hostDetector, resources.processDetector],
    sampler: await samplerOf(settings),
    spanProcessors: [
      new tracing.BatchSpanProcessor(exporter, { scheduledDelayMillis: settings.scheduleDelayMs }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
    textMapPropagator: null, // streamcast reads and writes traceparent itself
  });
  sdk.start();
  markTracing(true);
  logger.info(`tracing on: ${settings.protocol} spans to ${withoutCredentials(settings.url)}`, {
    component: 'tracing',
    exporter: settings.exporter,
    sampler: settings.sampler,
  });
  return async () => {
    markTracing(false);
    await sdk.shutdown();
  };
}
