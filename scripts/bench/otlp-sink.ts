/**
 * A local OTLP/HTTP receiver for benchmarks: accepts every export (200) and drops it, counting
 * requests, bytes and spans (http/protobuf) so a run with tracing on proves its spans left the
 * instances, and how many (the SDK drops spans when its queue is full).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countSpans } from '../lib/otlp-protobuf.js';

export interface OtlpSink {
  /** What `OTEL_EXPORTER_OTLP_ENDPOINT` is set to. */
  readonly url: string;
  readonly received: { requests: number; bytes: number; spans: number };
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const received = { requests: 0, bytes: 0, spans: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.requests += 1;
      received.bytes += body.length;
      received.spans += countSpans(body);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
