/**
 * Draining the HTTP server on shutdown without failing requests behind a reverse proxy. A proxy
 * keeps idle keep-alive connections to each instance and may send a request on one at any moment:
 * closing such a connection at that moment fails the request (and a proxy does not retry a POST).
 * So the listener stops taking connections, but each open connection is closed only after its
 * next answer (`Connection: close`), or once nothing has used it for a moment.
 */

import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { RequestHandler, Response } from 'express';

/** How long idle keep-alive connections are left to the proxy before they are closed. */
const IDLE_LINGER_MS = 1000;

/** How often connections that turned idle since are closed after the linger. */
const IDLE_POLL_MS = 100;

/**
 * Keep-alive timing for a server behind a proxy: idle connections must outlive the proxy's own
 * idle timeout (nginx `keepalive_timeout 60s` in deploy/nginx), so it is always the proxy that
 * closes an idle connection, never the instance while the proxy is reusing it.
 */
export function keepAliveBehindProxy(server: Server): void {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
}

/** Stops an HTTP server gracefully; mount `middleware` first so draining answers close connections. */
export class HttpDrain {
  private draining = false;
  private readonly unanswered = new Set<Response>();

  /** Tracks answers still to be sent; while draining, every answer carries `Connection: close`. */
  readonly middleware: RequestHandler = (_req, res, next) => {
    if (this.draining) res.set('Connection', 'close');
    else {
      this.unanswered.add(res);
      res.once('close', () => this.unanswered.delete(res));
    }
    next();
  };

  /** True once `close` has begun. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops accepting connections, lets requests in flight finish (their answers close their
   * connections), closes idle connections after a short linger, and cuts whatever is still open
   * at `deadline` (epoch ms).
   */
  async close(server: Server, deadline: number): Promise<void> {
    this.draining = true;
    for (const res of this.unanswered) if (!res.headersSent) res.set('Connection', 'close');
    this.unanswered.clear();
    // net.Server's close stops listening without http.Server's immediate closing of idle connections
    const closed = new Promise<void>((resolve) => {
      NetServer.prototype.close.call(server, () => resolve());
    });
    if (await settlesBy(closed, Math.min(Date.now() + IDLE_LINGER_MS, deadline))) return;
    while (Date.now() < deadline) {
      server.closeIdleConnections();
      if (await settlesBy(closed, Math.min(Date.now() + IDLE_POLL_MS, deadline))) return;
    }
    server.closeAllConnections();
    await closed;
  }
}

/** True if `promise` settles before `deadline` (epoch ms). */
async function settlesBy(promise: Promise<void>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(deadline - Date.now(), 0));
  });
  const settled = await Promise.race([promise.then(() => true as const), late]);
  clearTimeout(timer);
  return settled;
}
