/**
 * `GET /streams/{streamId}/events?fromVersion=N`: one stream's events from a version, then live.
 * One shared follower of the global log per instance (started with the first such session) feeds
 * every session; a session registers before reading its backlog, holds live events back until the
 * backlog is sent, and a version guard drops anything not newer, so there is no gap or duplicate.
 * Sessions take their slot from the same admission as `GET /events` and obey the same bound on
 * unsent bytes; a client that goes away ends its backlog read at once.
 */
import type { ServerResponse } from 'node:http';
import { closeOnce } from '../events/close-once.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { EventStore, Subscription } from '../events/event-store.js';
import type { Logger } from '../log.js';
import type { Admission } from './admission.js';
import type { SessionBounds } from './backpressure.js';
import { refuseEventStream, startEventStream } from './event-stream.js';
import { StreamSession } from './stream-session.js';

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

/** What a feed is built from. */
export interface StreamFeedOptions {
  readonly store: EventStore;
  /** SSE_MAX_CONNECTIONS and SSE_MAX_CONNECTIONS_PER_USER, shared with `GET /events`. */
  readonly admission: Admission;
  /** SSE_HEARTBEAT_MS */
  readonly heartbeatMs: number;
  /** SSE_RETRY_MS */
  readonly retryMs: number;
  /** SSE_MAX_BUFFERED_BYTES and SSE_STALL_TIMEOUT_MS */
  readonly bounds: SessionBounds;
  readonly logger: Logger;
}

/** Serves one stream's events to the sessions that follow it. */
export class StreamFeed {
  private readonly sessions = new Map<string, Set<StreamSession>>();
  private follower?: Subscription;
  private starting?: Promise<void>;
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly options: StreamFeedOptions) {
    this.heartbeat = setInterval(() => {
      for (const set of this.sessions.values()) for (const s of set) s.send(': ping\n\n');
    }, options.heartbeatMs);
  }

  /**
   * Starts the event stream on `res` for `userId` (or refuses it with a retry when a limit is
   * reached), sends the stream from `fromVersion`, then follows it until the client goes.
   */
  async serve(
    res: ServerResponse,
    userId: string,
    streamId: string,
    fromVersion: number,
    format: FeedFormat = ENVELOPES,
  ): Promise<void> {
    const { admission, retryMs, bounds, logger } = this.options;
    await this.ensureFollowing();
    const ticket = this.closing ? 'shutting down' : admission.admit(userId);
    if (typeof ticket === 'string') {
      refuseEventStream(res, retryMs);
      logger.info(`event stream refused (${ticket}): told to retry`, {
        userId,
        streamId,
        streams: admission.size,
        streamsOfUser: admission.of(userId),
      });
      return;
    }
    startEventStream(res, retryMs);
    const session = new StreamSession(res, fromVersion, format, bounds);
    let set = this.sessions.get(streamId);
    if (!set) {
      set = new Set();
      this.sessions.set(streamId, set);
    }
    const sessions = set;
    sessions.add(session);
    session.onClose = (slow) => {
      ticket.release();
      sessions.delete(session);
      if (sessions.size === 0 && this.sessions.get(streamId) === sessions) {
        this.sessions.delete(streamId);
      }
      if (slow) {
        logger.warn(
          'closed a slow stream reader (past SSE_MAX_BUFFERED_BYTES, or its backlog took nothing for SSE_STALL_TIMEOUT_MS); it resumes from its last id',
          { userId, streamId, bufferedBytes: session.bufferedAtClose, ...bounds },
        );
      }
    };
    // a client that left while this request awaited the store has fired its `close` already
    if (res.destroyed) session.close();
    let next = Math.max(1, fromVersion);
    while (!session.closed) {
      const page = await this.options.store.readStream(streamId, { fromVersion: next, limit: 500 });
      for (const e of page.events) await session.replay(e);
      next = page.nextVersion;
      if (page.isEnd) break;
    }
    session.goLive();
  }

  readonly close = closeOnce(async (): Promise<void> => {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const set of this.sessions.values()) for (const s of set) s.res.end();
    await this.follower?.close();
  });

  /** Starts the shared follower once; a start that failed (Redis away) is tried again next time. */
  private ensureFollowing(): Promise<void> {
    this.starting ??= this.startFollowing().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private async startFollowing(): Promise<void> {
    const after = await this.options.store.head();
    this.follower = this.options.store.subscribeAll({ after }, (events) => {
      for (const e of events) for (const s of this.sessions.get(e.streamId) ?? []) s.offer(e);
    });
    this.follower.done.catch((error: unknown) => {
      this.options.logger.error('stream feed stopped', { error: String(error) });
    });
  }
}
