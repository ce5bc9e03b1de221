import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * An HTTP server on a unix socket (small socket buffers, so a reader that stops reading fills them
 * after a few hundred KB instead of several MB on loopback TCP), serving each request with `handle`.
 */
export async function unixServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ readonly socketPath: string; close(): Promise<void> }> {
  const socketPath = join(mkdtempSync(join(tmpdir(), 'sc-sock-')), 'http.sock');
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A client that reads the first chunk of an answer, then stops reading (until told otherwise). */
export interface StalledReader {
  readonly status: number;
  /** The text read before it stopped reading. */
  readonly firstChunk: string;
  /** Reads again, to the end of the answer: what came after the first chunk. */
  rest(): Promise<string>;
  destroy(): void;
}

/**
 * Requests `path` from a unix socket (a path) or an instance (`http://host:port`) and stops
 * reading after the first chunk.
 */
export function stalledReader(
  where: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<StalledReader> {
  const target = where.startsWith('http')
    ? { host: new URL(where).hostname, port: new URL(where).port }
    : { socketPath: where };
  return new Promise((resolve, reject) => {
    // no keep-alive: the server closes the connection when it ends the answer
    const req = request({ ...target, path, headers, agent: false }, (res) => {
      let text = '';
      let ended!: () => void;
      const end = new Promise<void>((r) => {
        ended = r;
      });
      res.once('end', () => ended()); // may come while paused, when nothing is left to read
      res.once('close', () => ended());
      res.once('data', (chunk: Buffer) => {
        res.pause(); // stop reading: the socket's buffers fill up
        res.on('data', (more: Buffer) => {
          text += more.toString();
        });
        resolve({
          status: res.statusCode ?? 0,
          firstChunk: chunk.toString(),
          rest: async () => {
            res.resume();
            await end;
            return text;
          },
          destroy: () => req.destroy(),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with true once `predicate` holds, false after `timeoutMs` (checked every 20 ms). */
export async function eventually(predicate: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
