import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The baselines' SSE endpoint: `GET /events` becomes a plain event stream held in `clients`
 * (true), anything else is left to the caller (false).
 */
export function acceptSse(
  req: IncomingMessage,
  res: ServerResponse,
  clients: Set<ServerResponse>,
): boolean {
  if (req.method !== 'GET' || !req.url?.startsWith('/events')) return false;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
  });
  res.socket?.setNoDelay(true);
  res.write('retry: 3000\n\n');
  clients.add(res);
  res.on('close', () => clients.delete(res));
  return true;
}
