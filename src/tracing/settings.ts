/**
 * The standard `OTEL_*` keys streamcast reads (through `config.ts`, so `CONFIG_FILE` may carry
 * them too), validated, and resolved into what `startTracing` hands to the SDK. Tracing is on only
 * when an OTLP endpoint or a traces exporter is named, and `OTEL_SDK_DISABLED` is not true.
 */
import { z } from 'zod';

const PROTOCOLS = ['http/protobuf', 'http/json'] as const;
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const url = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional();
const protocol = z
  .enum(PROTOCOLS, { error: 'must be http/protobuf or http/json (grpc is not supported)' })
  .optional();
/** `key=value` pairs, comma-separated, values URL-encoded (the OTLP exporter specification). */
const pairs = z
  .string()
  .refine(
    (s) => s.split(',').every((p) => /^\s*[^=\s]+\s*=.*$/.test(p)),
    'must be key=value pairs separated by commas (values URL-encoded)',
  )
  .optional();

/** The zod fields of the `OTEL_*` keys (spread into the configuration schema). */
export const OTEL_KEYS = {
  OTEL_SDK_DISABLED: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'console', 'none'], { error: 'must be otlp, console or none' })
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_HEADERS: pairs,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: pairs,
  OTEL_SERVICE_NAME: z.string().min(1).max(256).optional(),
  OTEL_RESOURCE_ATTRIBUTES: pairs,
  OTEL_TRACES_SAMPLER: z
    .enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` })
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).optional(),
};

type OtelKeys = z.output<z.ZodObject<typeof OTEL_KEYS>>;

/** What the SDK is started with; absent when tracing is off. */
export interface TracingSettings {
  readonly exporter: 'otlp' | 'console';
  /** Where spans are posted (`…/v1/traces`). */
  readonly url: string;
  readonly protocol: (typeof PROTOCOLS)[number];
  /** Sent with every export (credentials of a collector: never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  readonly resource: Readonly<Record<string, string>>;
  readonly sampler: (typeof SAMPLERS)[number];
  /** The ratio of the traceidratio samplers. */
  readonly ratio: number;
  /** How often spans are exported, ms (the SDK's default 5000). */
  readonly scheduleDelayMs: number;
}

function parsePairs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    out[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return out;
}

/** The endpoint for traces: the traces one as given, else the general one + `/v1/traces`. */
function tracesUrl(c: OtelKeys): string {
  if (c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = c.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** The tracing settings of a validated configuration (undefined: tracing off), or problems. */
export function tracingSettingsOf(c: OtelKeys, problems: string[]): TracingSettings | undefined {
  const named =
    c.OTEL_EXPORTER_OTLP_ENDPOINT ||
    c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    c.OTEL_TRACES_EXPORTER !== undefined;
  if (!named || c.OTEL_SDK_DISABLED === 'true' || c.OTEL_TRACES_EXPORTER === 'none') {
    return undefined;
  }
  try {
    parsePairs(c.OTEL_EXPORTER_OTLP_HEADERS);
    parsePairs(c.OTEL_EXPORTER_OTLP_TRACES_HEADERS);
    parsePairs(c.OTEL_RESOURCE_ATTRIBUTES);
  } catch {
    problems.push(
      'OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS or OTEL_RESOURCE_ATTRIBUTES: a value is not valid URL encoding; encode it with encodeURIComponent',
    );
    return undefined;
  }
  const resource = parsePairs(c.OTEL_RESOURCE_ATTRIBUTES);
  return {
    exporter: c.OTEL_TRACES_EXPORTER === 'console' ? 'console' : 'otlp',
    url: tracesUrl(c),
    protocol:
      c.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? c.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    headers: {
      ...parsePairs(c.OTEL_EXPORTER_OTLP_HEADERS),
      ...parsePairs(c.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    serviceName: c.OTEL_SERVICE_NAME ?? resource['service.name'] ?? 'streamcast',
    resource,
    sampler: c.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on',
    ratio: c.OTEL_TRACES_SAMPLER_ARG ?? 1,
    scheduleDelayMs: c.OTEL_BSP_SCHEDULE_DELAY ?? 5000,
  };
}
