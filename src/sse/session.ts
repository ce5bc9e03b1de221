import type { ServerResponse } from 'node:http';
import { compareStreamIds } from '../events/stream-ids.js';
import { drainedOrClosed, type SessionBounds, writeBounded } from './backpressure.js';
import { frame, retryFrame } from './frames.js';
import type { NotificationEntry } from './notification-log.js';
import { type Audience, delivers, type SubscriptionSpec } from './routing.js';

/** Why a session ended. */
export type CloseReason = 'client' | 'slow' | 'shutdown' | 'overload';

/**
 * One SSE connection: its audience and subscription, the last entry it was sent, and — while it
 * replays missed notifications — the live ones addressed to it, held back until the replay is
 * done. Held-back frames count against the bound on unsent bytes, and a replay the client stops
 * reading is given up after the stall timeout: either way the session is cut off like a slow
 * reader and resumes later.
 */
export class SseSession {
  /**
   * Per partition, the last notifications-stream entry written (or skipped as not addressed to
   * it): the session's place in the delivered vector.
   */
  sent: string[];
  private replaying = false;
  private held: { partition: number; entry: NotificationEntry; frame: string }[] = [];
  private heldBytes = 0;
  closed = false;
  /** Bytes waiting to be sent (in the socket or held back) when it was cut off as a slow reader. */
  bufferedAtClose = 0;
  /** Why a slow reader was cut off: too many unsent bytes, or a replay it stopped reading. */
  slowBecause: 'buffered' | 'stalled' = 'buffered';
  onClose: (reason: CloseReason) => void = () => {};

  constructor(
    readonly res: ServerResponse,
    readonly sessionId: string,
    readonly audience: Audience,
    public spec: SubscriptionSpec,
    private readonly bounds: SessionBounds,
    startId: string,
  ) {
    this.sent = [startId];
    res.on('close', () => this.finish('client'));
  }

  get live(): boolean {
    return !this.replaying && !this.closed;
  }

  /**
   * A live notification of `partition`: written when addressed to this session and newer than the
   * last sent from that partition. True when it was written (or held for after the replay).
   */
  offer(partition: number, entry: NotificationEntry, text: string): boolean {
    if (this.closed) return false;
    if (this.replaying) {
      // only what it will be sent is kept: not every notification of the instance
      if (!delivers(this.audience, this.spec, entry)) return false;
      this.held.push({ partition, entry, frame: text });
      this.heldBytes += text.length;
      const unsent = this.heldBytes + this.res.writableLength;
      if (unsent > this.bounds.maxBufferedBytes) this.cutOff(unsent, 'buffered');
      return true;
    }
    if (compareStreamIds(entry.id, this.sent[partition] ?? '0-0') <= 0) return false;
    this.sent[partition] = entry.id;
    if (!delivers(this.audience, this.spec, entry)) return false;
    this.write(text);
    return true;
  }

  /** Writes a frame; a reader that lets more than the bound pile up is cut off (it resumes). */
  write(text: string): boolean {
    if (this.closed) return false;
    const { flowing, cutOffAt } = writeBounded(this.res, text, this.bounds.maxBufferedBytes);
    if (cutOffAt !== undefined) this.cutOff(cutOffAt, 'buffered');
    return flowing;
  }

  /**
   * Writes a replayed entry of `partition` — its frame built by `frameOf` once `sent` includes it,
   * only when it is sent — and waits for `drain` when the socket is full (G7 pacing).
   */
  async replay(partition: number, entry: NotificationEntry, frameOf: () => string): Promise<void> {
    if (this.closed || compareStreamIds(entry.id, this.sent[partition] ?? '0-0') <= 0) return;
    this.sent[partition] = entry.id;
    if (!delivers(this.audience, this.spec, entry)) return;
    if (this.res.write(frameOf())) return;
    if ((await drainedOrClosed(this.res, this.bounds.stallTimeoutMs)) === 'stalled') {
      this.cutOff(this.heldBytes + this.res.writableLength, 'stalled');
    }
  }

  /** Holds live notifications back until `endReplay`. */
  beginReplay(): void {
    this.replaying = true;
  }

  /** Sends what was held back (newer than the replay) and goes live. */
  endReplay(): void {
    this.replaying = false;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) this.offer(h.partition, h.entry, h.frame);
  }

  /** A frame not from the stream (`session.opened`, `stream.reset`). */
  send(event: string, params: Parameters<typeof frame>[1], id?: string): void {
    this.write(frame(event, params, id));
  }

  /** Ends the stream; with `retryMs`, tells the browser when to reconnect first. */
  close(reason: CloseReason, retryMs?: number): void {
    if (this.closed) return;
    if (retryMs !== undefined) this.res.write(retryFrame(retryMs));
    this.res.end();
    this.finish(reason);
  }

  private cutOff(unsentBytes: number, why: 'buffered' | 'stalled'): void {
    if (this.closed) return;
    this.bufferedAtClose = unsentBytes;
    this.slowBecause = why;
    this.res.destroy();
    this.finish('slow');
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.heldBytes = 0;
    this.onClose(reason);
  }
}
