import type { ServerResponse } from 'node:http';
import { compareStreamIds } from '../events/stream-ids.js';
import { drainedOrClosed, writeBounded } from './backpressure.js';
import { frame, retryFrame } from './frames.js';
import type { NotificationEntry } from './notification-log.js';
import { type Audience, delivers, type SubscriptionSpec } from './routing.js';

/** Why a session ended. */
export type CloseReason = 'client' | 'slow' | 'shutdown' | 'overload';

/**
 * One SSE connection: its audience and subscription, the last entry it was sent, and — while it
 * replays missed notifications — the live ones held back until the replay is done.
 */
export class SseSession {
  /** The last notifications-stream entry written (or skipped as not addressed to it). */
  lastSentId: string;
  private replaying = false;
  private held: { entry: NotificationEntry; frame: string }[] = [];
  closed = false;
  /** Bytes waiting to be sent when the session was cut off as a slow reader. */
  bufferedAtClose = 0;
  onClose: (reason: CloseReason) => void = () => {};

  constructor(
    readonly res: ServerResponse,
    readonly sessionId: string,
    readonly audience: Audience,
    public spec: SubscriptionSpec,
    private readonly maxBufferedBytes: number,
    startId: string,
  ) {
    this.lastSentId = startId;
    res.on('close', () => this.finish('client'));
  }

  get live(): boolean {
    return !this.replaying && !this.closed;
  }

  /** A live notification: written when addressed to this session and newer than the last sent. */
  offer(entry: NotificationEntry, text: string): void {
    if (this.closed) return;
    if (this.replaying) {
      this.held.push({ entry, frame: text });
      return;
    }
    if (compareStreamIds(entry.id, this.lastSentId) <= 0) return;
    this.lastSentId = entry.id;
    if (delivers(this.audience, this.spec, entry)) this.write(text);
  }

  /** Writes a frame; a reader that lets more than the bound pile up is cut off (it resumes). */
  write(text: string): boolean {
    if (this.closed) return false;
    const { flowing, cutOffAt } = writeBounded(this.res, text, this.maxBufferedBytes);
    if (cutOffAt !== undefined) {
      this.bufferedAtClose = cutOffAt;
      this.finish('slow');
    }
    return flowing;
  }

  /** Writes a replayed entry and waits for `drain` when the socket is full (G7 pacing). */
  async replay(entry: NotificationEntry, text: string): Promise<void> {
    if (this.closed || compareStreamIds(entry.id, this.lastSentId) <= 0) return;
    this.lastSentId = entry.id;
    if (!delivers(this.audience, this.spec, entry)) return;
    if (!this.res.write(text)) await drainedOrClosed(this.res);
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
    for (const h of held) this.offer(h.entry, h.frame);
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

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    this.onClose(reason);
  }
}
