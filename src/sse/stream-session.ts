/**
 * One follower of one stream (`GET /streams/…/events`, a deployment's events): its backlog is
 * sent paced by the socket, live events are held back meanwhile and sent after it, a version
 * guard drops anything not newer, and a reader that lets more than the bound pile up — in the
 * socket or held back — or stops taking its backlog for the stall timeout is cut off (it resumes
 * with `Last-Event-ID`).
 */
import type { ServerResponse } from 'node:http';
import type { RecordedEvent } from '../events/envelope.js';
import { drainedOrClosed, type SessionBounds, writeBounded } from './backpressure.js';
import type { FeedFormat } from './stream-feed.js';

/** A live event held back while the backlog is sent, with its frame. */
interface Held {
  readonly event: RecordedEvent;
  readonly text: string | undefined;
}

/** A stream session over a response. */
export class StreamSession {
  /** The last version sent (or skipped as sending nothing). */
  lastVersion: number;
  closed = false;
  /** Bytes waiting (sent or held) when the session was cut off as a slow reader. */
  bufferedAtClose = 0;
  /** Called once when the session ends; `slow` when it was cut off. */
  onClose: (slow: boolean) => void = () => {};
  private held: Held[] | undefined = [];
  private heldBytes = 0;
  private ending = false;

  constructor(
    readonly res: ServerResponse,
    fromVersion: number,
    private readonly format: FeedFormat,
    private readonly bounds: SessionBounds,
  ) {
    this.lastVersion = fromVersion - 1;
    res.on('close', () => this.finish(false));
  }

  /** A live event: held back while the backlog is sent, else written at once. */
  offer(event: RecordedEvent): void {
    if (this.closed) return;
    if (!this.held) {
      this.deliver(event, this.format.frame(event));
      return;
    }
    const text = this.format.frame(event);
    this.held.push({ event, text });
    this.heldBytes += text?.length ?? 0;
    if (this.heldBytes + this.res.writableLength > this.bounds.maxBufferedBytes) {
      this.cutOff(this.heldBytes + this.res.writableLength);
    }
  }

  /**
   * A backlog event: written, then waits until the socket has room or the client is gone; paced
   * by `drain`, so catching up is never taken for slowness (DESIGN.md G7).
   */
  async replay(event: RecordedEvent): Promise<void> {
    const flowing = this.deliver(event, this.format.frame(event), false);
    if (flowing || this.closed) return;
    if ((await drainedOrClosed(this.res, this.bounds.stallTimeoutMs)) === 'stalled') {
      this.cutOff(this.heldBytes + this.res.writableLength);
    }
  }

  /** The backlog is sent: writes what was held back and goes live. */
  goLive(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.heldBytes = 0;
    for (const h of held) this.deliver(h.event, h.text);
  }

  /** Ends the stream and the session (its `onClose` runs once, whatever closes it). */
  close(): void {
    this.res.end();
    this.finish(false);
  }

  /** A frame outside the stream (heartbeat comments), under the same bound. */
  send(text: string): void {
    if (!this.closed) this.write(text);
  }

  /**
   * Writes an event newer than the last one sent (live: under the bound on unsent bytes);
   * false when the socket is full.
   */
  private deliver(event: RecordedEvent, text: string | undefined, live = true): boolean {
    if (this.closed || this.ending || event.version <= this.lastVersion) return true;
    this.lastVersion = event.version;
    if (this.format.ends?.(event)) {
      this.ending = true;
      setTimeout(() => this.res.end(), this.format.closeAfterMs ?? 0).unref();
    }
    if (text === undefined) return true;
    return live ? this.write(text) : this.res.write(text);
  }

  private write(text: string): boolean {
    const { flowing, cutOffAt } = writeBounded(this.res, text, this.bounds.maxBufferedBytes);
    if (cutOffAt !== undefined) this.cutOff(cutOffAt);
    return flowing;
  }

  private cutOff(bufferedBytes: number): void {
    if (this.closed) return;
    this.bufferedAtClose = bufferedBytes;
    this.res.destroy();
    this.finish(true);
  }

  private finish(slow: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.held = undefined;
    this.onClose(slow);
  }
}
