/**
 * `GET /streams/{streamId}/events?fromVersion=N`: one stream's events from a version, then live.
 * One shared follower of the global log per instance (started with the first such session) feeds
 * every session; a session registers before reading its backlog, holds live events back until the
 * backlog is sent, and a version guard drops anything not newer, so there is no gap or duplicate.
 */
import type { ServerResponse } from 'node:http';
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, Subscription } from '../events/event-store.js';
import type { Logger } from '../log.js';

function eventFrame(e: RecordedEvent): string {
  return `id: ${e.version}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** How a feed turns events into frames (default: `event: <type>`, the envelope as data). */
export interface FeedFormat {
  /** The frame of an event, or undefined to send nothing for it. */
  frame(e: RecordedEvent): string | undefined;
  /** True for the event that ends the stream (closed `closeAfterMs` after it). */
  ends?(e: RecordedEvent): boolean;
  readonly closeAfterMs?: number;
}

const ENVELOPES: FeedFormat = { frame: eventFrame };

class StreamSession {
  lastVersion: number;
  private held: RecordedEvent[] | undefined = [];

  private ending = false;

  constructor(
    readonly res: ServerResponse,
    readonly streamId: string,
    fromVersion: number,
    private readonly format: FeedFormat,
  ) {
    this.lastVersion = fromVersion - 1;
  }

  offer(e: RecordedEvent): void {
    if (this.held) this.held.push(e);
    else this.write(e);
  }

  async write(e: RecordedEvent): Promise<void> {
    if (e.version <= this.lastVersion || this.ending) return;
    this.lastVersion = e.version;
    const text = this.format.frame(e);
    if (this.format.ends?.(e)) {
      this.ending = true;
      setTimeout(() => this.res.end(), this.format.closeAfterMs ?? 0).unref();
    }
    if (text && !this.res.write(text))
      await new Promise((resolve) => this.res.once('drain', resolve));
  }

  goLive(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const e of held) void this.write(e);
  }
}

export class StreamFeed {
  private readonly sessions = new Map<string, Set<StreamSession>>();
  private follower?: Subscription;
  private starting?: Promise<void>;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: EventStore,
    heartbeatMs: number,
    private readonly logger: Logger,
  ) {
    this.heartbeat = setInterval(() => {
      for (const set of this.sessions.values()) for (const s of set) s.res.write(': ping\n\n');
    }, heartbeatMs);
  }

  /** Sends the stream from `fromVersion`, then follows it until the client goes. */
  async serve(
    res: ServerResponse,
    streamId: string,
    fromVersion: number,
    format: FeedFormat = ENVELOPES,
  ): Promise<void> {
    await this.ensureFollowing();
    const session = new StreamSession(res, streamId, fromVersion, format);
    let set = this.sessions.get(streamId);
    if (!set) {
      set = new Set();
      this.sessions.set(streamId, set);
    }
    set.add(session);
    res.on('close', () => {
      set.delete(session);
      if (set.size === 0) this.sessions.delete(streamId);
    });
    let next = Math.max(1, fromVersion);
    for (;;) {
      const page = await this.store.readStream(streamId, { fromVersion: next, limit: 500 });
      for (const e of page.events) await session.write(e);
      next = page.nextVersion;
      if (page.isEnd || res.destroyed) break;
    }
    session.goLive();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const set of this.sessions.values()) for (const s of set) s.res.end();
    await this.follower?.close();
  }

  private ensureFollowing(): Promise<void> {
    this.starting ??= (async () => {
      const after = await this.store.head();
      this.follower = this.store.subscribeAll({ after }, (events) => {
        for (const e of events) for (const s of this.sessions.get(e.streamId) ?? []) s.offer(e);
      });
      this.follower.done.catch((error: unknown) => {
        this.logger.error('stream feed stopped', { error: String(error) });
      });
    })();
    return this.starting;
  }
}
