/**
 * The `notify-latency` baseline relay as its own process (like the instance it is compared with):
 * one `XREAD BLOCK 0` loop (no timeout: it returns as soon as an entry is there) on the stream
 * bare-http-ingress.ts writes, and each entry written as an SSE frame to every `GET /events`
 * response of a plain node http server. The entry's `params` field is parsed and the frame
 * serialised once per entry, as an instance does. Prints `listening` once it serves.
 * Usage: bare-sse-relay.ts <redisUrl> <port> <streamKey>.
 */
import { createServer, type ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { acceptSse } from './bare-sse.js';

const [url, port, key] = process.argv.slice(2);
if (!url || !port || !key)
  throw new Error('usage: bare-sse-relay.ts <redisUrl> <port> <streamKey>');

const redis = new Redis(url, { maxRetriesPerRequest: null });
const clients = new Set<ServerResponse>();

const server = createServer((req, res) => {
  if (acceptSse(req, res, clients)) return;
  res.writeHead(404).end();
});

async function relay(): Promise<void> {
  const newest = (await redis.xrevrange(key!, '+', '-', 'COUNT', 1))[0];
  let cursor = newest?.[0] ?? '0-0';
  for (;;) {
    const reply = (await redis.xread('COUNT', 500, 'BLOCK', 0, 'STREAMS', key!, cursor)) as
      | [string, [string, string[]][]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    for (const [id, flat] of entries) {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      const method = fields.method ?? 'message';
      const data = JSON.stringify({
        jsonrpc: '2.0',
        method,
        params: JSON.parse(fields.params ?? '{}'),
      });
      const frame = `id: ${id}\nevent: ${method}\ndata: ${data}\n\n`;
      for (const res of clients) res.write(frame);
      cursor = id;
    }
  }
}

server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write('listening\n');
  relay().catch((error: unknown) => {
    process.stderr.write(`bare relay failed: ${String(error)}\n`);
    process.exit(1);
  });
});
// exit normally on SIGTERM, so a --cpu-prof profile is written (BENCH_CPU_PROF)
process.on('SIGTERM', () => process.exit(0));
