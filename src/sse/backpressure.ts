/**
 * Backpressure on an event stream's response (DESIGN.md G7): live writes never wait, but a reader
 * that lets more than the bound pile up unsent is cut off (it resumes from its last id); replays
 * wait for `drain` — or for the end of the connection, so a client that goes away never leaves a
 * replay waiting, or for a stall timeout, so one that stays but reads nothing does not either.
 */
import type { ServerResponse } from 'node:http';

/** How much a session's reader may fall behind before it is cut off (it resumes later). */
export interface SessionBounds {
  /** `SSE_MAX_BUFFERED_BYTES`: unsent bytes, in the socket or held back during a replay. */
  readonly maxBufferedBytes: number;
  /** `SSE_STALL_TIMEOUT_MS`: how long a replay waits for the socket to take more. */
  readonly stallTimeoutMs: number;
}

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

/** How a wait for room in the socket ended. */
export type DrainOutcome = 'drained' | 'closed' | 'stalled';

/**
 * Resolves once the response has room again (`drain`), is gone (`close`), or — after
 * `stallTimeoutMs` without room — is found stalled: a client that reads nothing must not hold a
 * replay, and what it has read so far, forever.
 */
export function drainedOrClosed(
  res: ServerResponse,
  stallTimeoutMs: number,
): Promise<DrainOutcome> {
  if (res.destroyed || res.writableEnded) return Promise.resolve('closed');
  return new Promise((resolve) => {
    const done = (outcome: DrainOutcome) => {
      clearTimeout(timer);
      res.off('drain', drained);
      res.off('close', closed);
      resolve(outcome);
    };
    const drained = () => done('drained');
    const closed = () => done('closed');
    const timer = setTimeout(() => done('stalled'), stallTimeoutMs);
    res.on('drain', drained);
    res.on('close', closed);
  });
}
