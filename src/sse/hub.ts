/**
 * Delivery of notifications to the SSE sessions of this instance (DESIGN.md G5, §7): one ordered
 * tail of the notifications stream, the writer's in-order fast path, replay-to-live hand-over for
 * resuming sessions, one shared heartbeat, and the epoch that makes lost data visible.
 */

import { closeOnce } from '../events/close-once.js';
import type { WrittenNotification } from '../events/envelope.js';
import { compareStreamIds, positionBefore, wentBack } from '../events/stream-ids.js';
import type { Logger } from '../log.js';
import { frame, notificationFrame, parseSseId, sseId } from './frames.js';
import type { NotificationEntry, NotificationLog, Tail } from './notification-log.js';
import type { SseSession } from './session.js';

const REPLAY_PAGE = 500;

export interface HubOptions {
  readonly log: NotificationLog;
  readonly serverId: string;
  /** SSE_HEARTBEAT_MS */
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/** Why a resume point cannot be honoured. */
export type ResetReason = 'retention' | 'epoch';

export class Hub {
  readonly sessions = new Set<SseSession>();
  private epoch = '';
  /** The newest entry handed to the sessions (by the tail or the fast path). */
  private delivered = '0-0';
  private tail?: Tail;
  private timers: NodeJS.Timeout[] = [];
  private checking = false;
  /**
   * What was delivered when the tail last lost Redis: checked before anything else, since entries
   * the tail delivers once Redis is back move `delivered` past a loss (G5).
   */
  private mustHold?: string;

  constructor(private readonly options: HubOptions) {}

  /** Joins the stream at its newest entry and starts the tail and the heartbeat. */
  async start(): Promise<void> {
    const { log, heartbeatMs } = this.options;
    this.epoch = await log.epoch();
    this.delivered = (await log.retention()).newest;
    this.tail = this.follow(this.delivered);
    this.timers.push(
      setInterval(() => this.heartbeat(), heartbeatMs),
      setInterval(() => void this.checkEpoch(), Math.min(2000, heartbeatMs)),
    );
  }

  /** The position sessions here have been delivered up to, as an SSE id. */
  get position(): string {
    return sseId(this.epoch, this.delivered);
  }

  readonly close = closeOnce(async (): Promise<void> => {
    for (const t of this.timers) clearInterval(t);
    await this.tail?.close();
  });

  /**
   * The writer's fast path: notifications this instance just appended go to its sessions at once,
   * but only in order — when the entry before each is the last one delivered; otherwise the tail
   * delivers them (and skips what was delivered here).
   */
  fastPath(entries: readonly (NotificationEntry & Pick<WrittenNotification, 'prevId'>)[]): void {
    for (const e of entries) {
      if (e.prevId !== this.delivered) return;
      this.deliver(e);
    }
  }

  /**
   * Attaches a session: `session.opened`, then either the missed notifications since `resumeFrom`
   * (paced by the socket) handed over to live with no gap or duplicate, or `stream.reset` when the
   * resume point is gone, or live from now.
   */
  async attach(session: SseSession, resumeFrom: string | undefined): Promise<void> {
    const resume = parseSseId(resumeFrom);
    session.send('session.opened', {
      sessionId: session.sessionId,
      serverId: this.options.serverId,
      resumedFrom: resume ? resumeFrom!.trim() : null,
    });
    const reason = resume ? await this.unresumable(resume) : undefined;
    if (!resume || reason) {
      session.lastSentId = this.delivered;
      this.sessions.add(session);
      if (reason) session.send('stream.reset', { reason }, this.position);
      return;
    }
    session.lastSentId = resume.entryId;
    session.beginReplay();
    this.sessions.add(session);
    try {
      await this.replayTo(session, this.delivered);
    } finally {
      session.endReplay();
    }
  }

  /** Removes a closed session. */
  detach(session: SseSession): void {
    this.sessions.delete(session);
  }

  private async unresumable(resume: {
    epoch: string;
    entryId: string;
  }): Promise<ResetReason | undefined> {
    if (resume.epoch !== this.epoch) return 'epoch';
    const { newest, oldest, trimmed } = await this.options.log.retention();
    if (compareStreamIds(resume.entryId, newest) > 0) return 'epoch'; // from a stream that went back
    // conservative: a resume point before the oldest entry kept may have missed trimmed ones
    if (trimmed && (!oldest || compareStreamIds(resume.entryId, oldest) < 0)) return 'retention';
    return undefined;
  }

  private async replayTo(session: SseSession, until: string): Promise<void> {
    for (;;) {
      const page = await this.options.log.range(session.lastSentId, until, REPLAY_PAGE);
      for (const e of page) await session.replay(e, notificationFrame(this.epoch, e));
      if (page.length < REPLAY_PAGE || session.closed) return;
    }
  }

  private follow(after: string): Tail {
    return this.options.log.follow(
      after,
      (entries) => this.fromTail(entries),
      () => {
        this.mustHold ??= this.delivered;
      },
    );
  }

  private fromTail(entries: readonly NotificationEntry[]): void {
    for (const e of entries) {
      if (compareStreamIds(e.id, this.delivered) > 0) this.deliver(e);
    }
  }

  private deliver(e: NotificationEntry): void {
    this.delivered = e.id;
    if (this.sessions.size === 0) return; // an instance without sessions serialises nothing
    const text = notificationFrame(this.epoch, e);
    for (const s of this.sessions) s.offer(e, text);
  }

  private heartbeat(): void {
    const ping = frame('ping', { at: new Date().toISOString() }, this.position);
    for (const s of this.sessions) {
      if (!s.live) continue;
      s.lastSentId = this.delivered;
      s.write(ping);
    }
  }

  /**
   * G5 loss detection: the epoch key gone, or the stream behind what was delivered (Redis lost
   * data), starts a new epoch; sessions here get `stream.reset` and the tail starts over.
   */
  private async checkEpoch(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const { log, logger } = this.options;
      // before reading: the fast path may deliver meanwhile
      const seen = this.mustHold ?? this.delivered;
      const { newest, oldest } = await log.retention();
      const holdsSeen =
        seen === '0-0' || (await log.range(positionBefore(seen), seen, 1))[0]?.id === seen;
      const lost = wentBack(seen, { newest, holdsSeen, ...(oldest ? { oldest } : {}) });
      const current = lost ? await log.renewEpoch(this.epoch) : await log.epoch();
      if (this.mustHold === seen) this.mustHold = undefined;
      if (current === this.epoch) return;
      logger.error(
        'notifications stream lost data (Redis restarted without it, or failed over): new epoch; sessions get stream.reset',
        {
          oldEpoch: this.epoch,
          epoch: current,
          delivered: this.delivered,
          newest,
        },
      );
      await this.tail?.close();
      this.epoch = current;
      this.delivered = newest;
      for (const s of this.sessions) {
        s.lastSentId = newest;
        s.send('stream.reset', { reason: 'epoch' }, this.position);
      }
      this.tail = this.follow(newest);
    } catch (error) {
      this.options.logger.warn('notifications epoch check failed; retrying', {
        error: String(error),
      });
    } finally {
      this.checking = false;
    }
  }
}
