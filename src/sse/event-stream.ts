/**
 * How every event stream starts (SPEC.md §5): its headers and `retry:`; and how a stream that is
 * not admitted is refused: a 200 event stream with a jittered `retry:`, closed at once, since
 * browsers stop reconnecting on any other answer and the next try may land on another instance.
 */
import type { ServerResponse } from 'node:http';
import { jitteredRetry, retryFrame } from './frames.js';

/** The headers every event stream starts with (SPEC.md §5). */
export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  Connection: 'keep-alive',
} as const;

/** Starts an event stream on `res`: headers and `retry:`. */
export function startEventStream(res: ServerResponse, retryMs: number): void {
  res.writeHead(200, SSE_HEADERS);
  res.socket?.setNoDelay(true);
  res.write(retryFrame(retryMs));
}

/** Answers a stream that is not admitted: retry later (between `retryMs` and 3× it), closed. */
export function refuseEventStream(res: ServerResponse, retryMs: number): void {
  startEventStream(res, jitteredRetry(retryMs));
  res.end();
}
