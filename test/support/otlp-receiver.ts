/**
 * An OTLP/HTTP traces receiver in the test process (`POST /v1/traces`): decodes http/json directly
 * and http/protobuf with `otlp-protobuf.ts`, keeps every span with the protocol it came by, and
 * answers as a collector does (200 with an empty `ExportTraceServiceResponse`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeTraceRequest,
  type OtlpValue,
  type RawSpan,
} from '../../scripts/lib/otlp-protobuf.js';

export type { OtlpValue, RawSpan };

/** A received span and how it came. */
export type ReceivedSpan = RawSpan & { readonly protocol: 'http/json' | 'http/protobuf' };

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>`: what `OTEL_EXPORTER_OTLP_ENDPOINT` is set to. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests received, by protocol. */
  readonly requests: Record<ReceivedSpan['protocol'], number>;
  /** Waits until `found` returns a value for the spans so far (polls every 50 ms). */
  waitFor<T>(
    what: string,
    found: (spans: readonly ReceivedSpan[]) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  close(): Promise<void>;
}

type JsonValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonValue[] };
};
type JsonKv = { key: string; value?: JsonValue };

/** An id as the JSON exporter writes it: hex (OTLP/JSON), or base64 (protobuf's JSON mapping). */
function idOf(id: unknown): string {
  const s = String(id ?? '');
  return /^[0-9a-fA-F]*$/.test(s) && (s.length === 32 || s.length === 16)
    ? s.toLowerCase()
    : Buffer.from(s, 'base64').toString('hex');
}

function jsonValue(v: JsonValue | undefined): OtlpValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  return null;
}

const jsonAttributes = (kvs: JsonKv[] | undefined) =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));

interface JsonSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind?: number;
  readonly attributes?: JsonKv[];
  readonly events?: { readonly name: string; readonly attributes?: JsonKv[] }[];
  readonly links?: { readonly traceId: string; readonly spanId: string }[];
}

/** The OTLP/JSON `ExportTraceServiceRequest`, as far as the tests read it. */
interface JsonRequest {
  readonly resourceSpans?: {
    readonly resource?: { readonly attributes?: JsonKv[] };
    readonly scopeSpans?: { readonly spans?: JsonSpan[] }[];
  }[];
}

function decodeJson(body: JsonRequest): RawSpan[] {
  return (body.resourceSpans ?? []).flatMap((rs) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map(
        (s): RawSpan => ({
          traceId: idOf(s.traceId),
          spanId: idOf(s.spanId),
          ...(s.parentSpanId ? { parentSpanId: idOf(s.parentSpanId) } : {}),
          name: s.name,
          kind: Number(s.kind ?? 0),
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            attributes: jsonAttributes(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({ traceId: idOf(l.traceId), spanId: idOf(l.spanId) })),
          resource,
        }),
      ),
    );
  });
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests = { 'http/json': 0, 'http/protobuf': 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const json = (req.headers['content-type'] ?? '').includes('json');
      try {
        const protocol = json ? 'http/json' : 'http/protobuf';
        const got = json
          ? decodeJson(JSON.parse(body.toString('utf8')) as JsonRequest)
          : decodeTraceRequest(body);
        requests[protocol] += 1;
        for (const s of got) spans.push({ ...s, protocol });
        res.writeHead(200, {
          'content-type': json ? 'application/json' : 'application/x-protobuf',
        });
        res.end(json ? '{}' : Buffer.alloc(0));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async waitFor(what, found, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = found(spans);
        if (value !== undefined) return value;
        if (Date.now() > deadline) {
          const names = spans
            .map((s) => `${s.resource['service.instance.id']}:${s.name}`)
            .join(', ');
          throw new Error(`no ${what} within ${timeoutMs} ms; spans so far: ${names || 'none'}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
