/**
 * SSE frames (SPEC.md §5). A notification's frame is built once and written to every matching
 * session; `data` is one line of JSON (JSON.stringify never emits a raw newline).
 */
import type { Json } from '../events/envelope.js';
import { formatSseId, parseSseIdParts } from './sse-id.js';

/** One partition's SSE id: the notifications stream's epoch and the entry id (`sse-id.ts`). */
export function sseId(epoch: string, entryId: string): string {
  return formatSseId(epoch, [entryId]);
}

/** Splits one partition's `<epoch>:<entry id>`; undefined when it is not one. */
export function parseSseId(
  text: string | undefined,
): { epoch: string; entryId: string } | undefined {
  const parts = parseSseIdParts(text);
  return parts?.positions.length === 1
    ? { epoch: parts.tag, entryId: parts.positions[0]! }
    : undefined;
}

/** One frame: `id:` (optional), `event:`, and a JSON-RPC notification as `data:`. */
export function frame(event: string, params: Json, id?: string): string {
  const data = JSON.stringify({ jsonrpc: '2.0', method: event, params });
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

/** `retry:` alone: how long a browser waits before reconnecting. */
export function retryFrame(ms: number): string {
  return `retry: ${Math.round(ms)}\n\n`;
}

/** A retry between `base` and 3× it, so clients of a closing instance spread out. */
export function jitteredRetry(base: number): number {
  return base + Math.random() * 2 * base;
}
