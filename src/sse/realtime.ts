/**
 * The realtime side of an instance: `GET /events` sessions (limits, resume, subscriptions kept
 * for reconnects), subscription changes from any instance, presence, and shutdown with a retry
 * hint so clients move to other instances.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { IDENTIFIER } from '../domain/identifier.js';
import { parseInput } from '../error-codes.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { closeOnce } from '../events/close-once.js';
import type { Logger } from '../log.js';
import type { Caller } from '../rpc/method.js';
import type { Admission } from './admission.js';
import type { SessionBounds } from './backpressure.js';
import type { InstancePresence, SessionDirectory } from './directory.js';
import { refuseEventStream, startEventStream } from './event-stream.js';
import { jitteredRetry } from './frames.js';
import type { Hub } from './hub.js';
import { type SubscriptionSpec, specOf, subscriptionInput } from './routing.js';
import { SseSession } from './session.js';
import { checkSubscriptionLimits, type SubscriptionLimits } from './subscription-limits.js';

export interface RealtimeOptions {
  readonly hub: Hub;
  readonly directory: SessionDirectory;
  readonly serverId: string;
  /** SSE_MAX_CONNECTIONS and SSE_MAX_CONNECTIONS_PER_USER, shared with the other SSE routes. */
  readonly admission: Admission;
  /** SSE_MAX_BUFFERED_BYTES and SSE_STALL_TIMEOUT_MS */
  readonly bounds: SessionBounds;
  /** SSE_MAX_FILTERS, SSE_MAX_FILTER_VALUES */
  readonly limits: SubscriptionLimits;
  /** SSE_MAX_SESSIONS_PER_USER (named in the refusal; the directory enforces it) */
  readonly maxSessionsPerUser: number;
  /** SSE_RETRY_MS */
  readonly retryMs: number;
  /** PRESENCE_TTL_MS */
  readonly presenceTtlMs: number;
  readonly logger: Logger;
}

/** What `GET /events` asked for. */
export interface OpenRequest {
  readonly sessionId?: string;
  readonly subscription: unknown;
  /** `Last-Event-ID`, or the `lastEventId` query. */
  readonly lastEventId?: string;
}

/** A `GET /events` request, validated: its session, subscription, and whose record to keep. */
export interface PreparedSession {
  readonly sessionId: string;
  readonly spec: SubscriptionSpec;
  /** The owner of a client-chosen session, whose record is kept once admitted; none for others. */
  readonly keptFor?: string;
}

function tooManySessions(userId: string, most: number): ValidationError {
  return new ValidationError(
    `user ${userId} already keeps ${most} client-chosen sessionIds (SSE_MAX_SESSIONS_PER_USER): reuse one of them, or open the stream without a sessionId`,
    [{ path: 'sessionId', message: `at most ${most} per user (SSE_MAX_SESSIONS_PER_USER)` }],
  );
}

/** The body of `POST /api/v1/sse/subscribe`. */
const subscribeBody = subscriptionInput.extend({
  sessionId: z.string().regex(IDENTIFIER, 'must be the sessionId the session was opened with'),
});

export class Realtime {
  private presenceTimer?: NodeJS.Timeout;
  private closing = false;
  private started = false;

  constructor(private readonly options: RealtimeOptions) {}

  async start(): Promise<void> {
    const { hub, directory, presenceTtlMs } = this.options;
    await hub.start();
    await directory.onChange((sessionId) => void this.reload(sessionId));
    this.presenceTimer = setInterval(() => void this.publishPresence(), presenceTtlMs / 3);
    await this.publishPresence();
    this.started = true;
  }

  /** Sessions and distinct users connected to this instance. */
  status(): { sessions: number; connectedUsers: number } {
    const users = new Set([...this.options.hub.sessions].map((s) => s.audience.userId));
    return { sessions: this.options.hub.sessions.size, connectedUsers: users.size };
  }

  /** Who is connected to which instance, from every instance's presence entry. */
  presence(): Promise<InstancePresence[]> {
    return this.options.directory.presence();
  }

  /** Validates a request for `GET /events`; writes nothing (errors become 4xx). */
  async prepare(caller: Caller, request: OpenRequest): Promise<PreparedSession> {
    const sessionId = request.sessionId ?? randomUUID();
    if (!IDENTIFIER.test(sessionId)) {
      throw new ValidationError('sessionId must be 1-128 characters of A-Z a-z 0-9 . _ : -', [
        { path: 'sessionId', message: 'not an identifier' },
      ]);
    }
    const stored = request.sessionId ? await this.options.directory.get(sessionId) : undefined;
    if (stored && stored.userId !== caller.userId && !caller.isAdmin) {
      throw new ForbiddenError(
        `session ${sessionId} belongs to another user; choose another sessionId`,
      );
    }
    if (stored) {
      // a record kept before the limits were lowered is held to today's limits
      checkSubscriptionLimits(stored.spec, this.options.limits);
      return { sessionId, spec: stored.spec, keptFor: stored.userId };
    }
    const input = parseInput(subscriptionInput, request.subscription, 'invalid topics or filters');
    const spec = specOf(input);
    checkSubscriptionLimits(spec, this.options.limits);
    // only a client-chosen id can be reconnected to or changed later: others are not kept
    return request.sessionId ? { sessionId, spec, keptFor: caller.userId } : { sessionId, spec };
  }

  /** Serves one `GET /events` stream until the client goes or the instance shuts down. */
  async open(
    res: ServerResponse,
    caller: Caller,
    prepared: PreparedSession,
    lastEventId?: string,
  ): Promise<void> {
    const { hub, admission, retryMs, bounds, logger } = this.options;
    const ticket =
      !this.started || this.closing ? 'starting or shutting down' : admission.admit(caller.userId);
    if (typeof ticket === 'string') {
      refuseEventStream(res, retryMs);
      logger.info(`event stream refused (${ticket}): told to retry`, {
        userId: caller.userId,
        streams: admission.size,
        streamsOfUser: admission.of(caller.userId),
      });
      return;
    }
    if (prepared.keptFor !== undefined) {
      // written only now that it is admitted: a refused connection leaves nothing behind
      const record = { userId: prepared.keptFor, spec: prepared.spec };
      const kept = await this.options.directory
        .keep(prepared.sessionId, record, false)
        .catch((error: unknown) => {
          ticket.release();
          throw error;
        });
      if (kept === 'too-many') {
        ticket.release();
        throw tooManySessions(prepared.keptFor, this.options.maxSessionsPerUser);
      }
    }
    startEventStream(res, retryMs);
    const session = new SseSession(
      res,
      prepared.sessionId,
      { userId: caller.userId, groups: caller.groups },
      prepared.spec,
      bounds,
      '0-0',
    );
    session.onClose = (reason) => {
      ticket.release();
      hub.detach(session);
      if (reason === 'slow') {
        const why =
          session.slowBecause === 'stalled'
            ? 'its replay took nothing for SSE_STALL_TIMEOUT_MS'
            : 'past SSE_MAX_BUFFERED_BYTES';
        logger.warn(`closed a slow SSE reader (${why}); it resumes from its last id`, {
          sessionId: session.sessionId,
          userId: caller.userId,
          bufferedBytes: session.bufferedAtClose,
          ...bounds,
        });
      }
    };
    // a client that left while this request awaited Redis has fired its `close` already
    if (res.destroyed) {
      session.close('client');
      return;
    }
    await hub.attach(session, lastEventId);
  }

  /** `POST /api/v1/sse/subscribe`: changes a session's subscription wherever it is held. */
  async subscribe(
    caller: Caller,
    body: unknown,
  ): Promise<{ sessionId: string } & SubscriptionSpec> {
    const { sessionId, ...change } = parseInput(subscribeBody, body, 'invalid subscription change');
    const stored = await this.options.directory.get(sessionId);
    // another user's session is answered as a missing one: its existence is not theirs to learn
    if (!stored || (stored.userId !== caller.userId && !caller.isAdmin)) {
      throw new NotFoundError('session', sessionId);
    }
    const spec = specOf({
      topics: change.topics ?? stored.spec.topics,
      filters: change.filters ?? stored.spec.filters,
    });
    checkSubscriptionLimits(spec, this.options.limits);
    const kept = await this.options.directory.keep(
      sessionId,
      { userId: stored.userId, spec },
      true,
    );
    if (kept === 'too-many') throw tooManySessions(stored.userId, this.options.maxSessionsPerUser);
    await this.options.directory.announce(sessionId);
    return { sessionId, ...spec };
  }

  /** Closes every session with a jittered retry so clients spread over the other instances. */
  readonly close = closeOnce(async (): Promise<void> => {
    this.closing = true;
    clearInterval(this.presenceTimer);
    const { hub, directory, serverId, retryMs } = this.options;
    for (const s of [...hub.sessions]) s.close('shutdown', jitteredRetry(retryMs));
    await hub.close();
    await directory.clearPresence(serverId).catch(() => {});
    await directory.close();
  });

  private async reload(sessionId: string): Promise<void> {
    const held = [...this.options.hub.sessions].filter((s) => s.sessionId === sessionId);
    if (held.length === 0) return;
    const record = await this.options.directory.get(sessionId);
    if (record) for (const s of held) s.spec = record.spec;
  }

  private async publishPresence(): Promise<void> {
    const users = new Map<string, number>();
    for (const s of this.options.hub.sessions) {
      users.set(s.audience.userId, (users.get(s.audience.userId) ?? 0) + 1);
    }
    const { directory, serverId, presenceTtlMs, logger } = this.options;
    await directory.setPresence(serverId, users, presenceTtlMs).catch((error: unknown) => {
      logger.warn('cannot write presence; retrying', { error: String(error) });
    });
  }
}
