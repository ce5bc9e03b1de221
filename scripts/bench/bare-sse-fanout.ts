/**
 * The `fanout` baseline as its own process (like the instance it is compared with): a plain node
 * http server holding every `GET /events` response, and `POST /broadcast` {method, params, id}
 * building one SSE frame and `res.write`-ing that same string to every held response before it
 * answers. No routing, no per-session state, no heartbeat. Prints `listening` once it serves.
 * Usage: bare-sse-fanout.ts <port>.
 */
import { createServer, type ServerResponse } from 'node:http';
import { acceptSse } from './bare-sse.js';

const [port] = process.argv.slice(2);
if (!port) throw new Error('usage: bare-sse-fanout.ts <port>');

const clients = new Set<ServerResponse>();

const server = createServer((req, res) => {
  if (acceptSse(req, res, clients)) return;
  if (req.method === 'POST' && req.url === '/broadcast') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const { method, params, id } = JSON.parse(body) as {
        method: string;
        params: unknown;
        id: string;
      };
      const data = JSON.stringify({ jsonrpc: '2.0', method, params });
      const frame = `id: ${id}\nevent: ${method}\ndata: ${data}\n\n`;
      for (const client of clients) client.write(frame);
      const answer = JSON.stringify({ delivered: clients.size });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    });
    return;
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
// exit normally on SIGTERM, so a --cpu-prof profile is written (BENCH_CPU_PROF)
process.on('SIGTERM', () => process.exit(0));
