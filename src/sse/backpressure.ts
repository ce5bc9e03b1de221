/**
 * Backpressure on an event stream's response (DESIGN.md G7): live writes never wait, but a reader
 * that lets more than the bound pile up unsent is cut off (it resumes from its last id); replays
 * wait for `drain` — or for the end of the connection, so a client that goes away never leaves a
 * replay waiting.
 */
import type { ServerResponse } from 'node:http';

/**
 * Writes `text`; when more than `maxBufferedBytes` are then waiting to be sent, destroys the
 * response and returns the bytes that were waiting (undefined while under the bound).
 */
export function writeBounded(
  res: ServerResponse,
  text: string,
  maxBufferedBytes: number,
): { readonly flowing: boolean; readonly cutOffAt?: number } {
  const flowing = res.write(text);
  if (res.writableLength <= maxBufferedBytes) return flowing ? FLOWING : FULL;
  const cutOffAt = res.writableLength;
  res.destroy();
  return { flowing: false, cutOffAt };
}

const FLOWING = { flowing: true } as const;
const FULL = { flowing: false } as const;

/** Resolves once the response has room again (`drain`) or is gone (`close`). */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
