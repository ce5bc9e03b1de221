/**
 * Delivery of notifications to the SSE sessions of this instance (DESIGN.md G5, §7, §8): an
 * ordered tail of every partition's notifications stream, the writer's in-order fast path per
 * partition, replay-to-live hand-over for resuming sessions, one shared heartbeat, and the epochs
 * that make lost data visible. Every frame's id is the delivered vector (`sse-id.ts`), built once.
 */
import { createHash } from 'node:crypto';
import { closeOnce } from '../events/close-once.js';
import type { WrittenNotification } from '../events/envelope.js';
import { compareStreamIds } from '../events/stream-ids.js';
import type { Logger } from '../log.js';
import { recordFanOut } from '../tracing/hops.js';
import { frame } from './frames.js';
import { MissedNotifications } from './missed-notifications.js';
import type { NotificationEntry, NotificationLog } from './notification-log.js';
import { type LaneCheck, PartitionLane } from './partition-lane.js';
import type { SseSession } from './session.js';
import { formatSseId, PositionVector, parseSseIdParts, type SseIdParts } from './sse-id.js';

/** Entries of a missed page per partition: 500 in all, at least 20 each. */
const REPLAY_PAGE = 500;

export interface HubOptions {
  /** The notifications stream of each partition, in partition order (one log: one partition). */
  readonly log: NotificationLog | readonly NotificationLog[];
  readonly serverId: string;
  /** SSE_HEARTBEAT_MS */
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/** Why a resume point cannot be honoured. */
export type ResetReason = 'retention' | 'epoch';

/**
 * The epochs as an id carries them: one partition's epoch itself (today's ids); several, the first
 * 48 bits of their SHA-256, as many random bits as one epoch has.
 */
export function epochTag(epochs: readonly string[]): string {
  if (epochs.length === 1) return epochs[0]!;
  return createHash('sha256').update(epochs.join(',')).digest('hex').slice(0, 12);
}

export class Hub {
  readonly sessions = new Set<SseSession>();
  private readonly lanes: PartitionLane[];
  private vector: PositionVector;
  private timers: NodeJS.Timeout[] = [];
  private checking = false;

  constructor(private readonly options: HubOptions) {
    const logs = Array.isArray(options.log) ? options.log : [options.log as NotificationLog];
    this.lanes = logs.map(
      (log, p) => new PartitionLane(p, log, (lane, entries) => this.fromTail(lane, entries)),
    );
    this.vector = new PositionVector(
      '',
      logs.map(() => '0-0'),
    );
  }

  /** Joins every partition's stream at its newest entry and starts the tails and the heartbeat. */
  async start(): Promise<void> {
    const { heartbeatMs } = this.options;
    await Promise.all(this.lanes.map((lane) => lane.join()));
    this.vector = new PositionVector(
      this.tag(),
      this.lanes.map((lane) => lane.delivered),
    );
    for (const lane of this.lanes) lane.follow();
    this.timers.push(
      setInterval(() => this.heartbeat(), heartbeatMs),
      setInterval(() => void this.checkEpochs(), Math.min(2000, heartbeatMs)),
    );
  }

  /** The position sessions here have been delivered up to, as an SSE id. */
  get position(): string {
    return this.vector.id;
  }

  readonly close = closeOnce(async (): Promise<void> => {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.lanes.map((lane) => lane.close()));
  });

  /**
   * The writer's fast path: notifications this instance just appended to `partition` go to its
   * sessions at once, but only in order — when the entry before each is the last one delivered
   * from that partition; otherwise the tail delivers them (and skips what was delivered here).
   */
  fastPath(
    partition: number,
    entries: readonly (NotificationEntry & Pick<WrittenNotification, 'prevId'>)[],
  ): void {
    const lane = this.lanes[partition];
    if (!lane) return;
    for (const e of entries) {
      if (e.prevId !== lane.delivered) return;
      this.deliver(lane, e);
    }
  }

  /**
   * Attaches a session: `session.opened`, then either the missed notifications since `resumeFrom`
   * (paced by the socket) handed over to live with no gap or duplicate, or `stream.reset` when the
   * resume point is gone in any partition, or live from now.
   */
  async attach(session: SseSession, resumeFrom: string | undefined): Promise<void> {
    const parsed = parseSseIdParts(resumeFrom);
    const resume = parsed?.positions.length === this.lanes.length ? parsed : undefined;
    session.send('session.opened', {
      sessionId: session.sessionId,
      serverId: this.options.serverId,
      resumedFrom: resume ? resumeFrom!.trim() : null,
    });
    const reason = resume ? await this.unresumable(resume) : undefined;
    if (!resume || reason) {
      session.sent = [...this.vector.positions];
      this.sessions.add(session);
      if (reason) session.send('stream.reset', { reason }, this.position);
      // a resume point from the start: a session that drops before its first notification or
      // heartbeat resumes from here instead of starting over and missing what came meanwhile
      else session.send('ping', { at: new Date().toISOString() }, this.position);
      return;
    }
    session.sent = [...resume.positions];
    session.beginReplay();
    this.sessions.add(session);
    try {
      await this.replayTo(session, [...this.vector.positions]);
    } finally {
      session.endReplay();
    }
  }

  /** Removes a closed session. */
  detach(session: SseSession): void {
    this.sessions.delete(session);
  }

  private tag(): string {
    return epochTag(this.lanes.map((lane) => lane.epoch));
  }

  /** Per partition (G5): from another epoch, or ahead of its stream, or before what it keeps. */
  private async unresumable(resume: SseIdParts): Promise<ResetReason | undefined> {
    if (resume.tag !== this.vector.tag) return 'epoch';
    const reasons = await Promise.all(
      this.lanes.map(async (lane, p): Promise<ResetReason | undefined> => {
        const at = resume.positions[p]!;
        const { newest, oldest, trimmed } = await lane.log.retention();
        if (compareStreamIds(at, newest) > 0) return 'epoch'; // from a stream that went back
        // conservative: a resume point before the oldest entry kept may have missed trimmed ones
        if (trimmed && (!oldest || compareStreamIds(at, oldest) < 0)) return 'retention';
        return undefined;
      }),
    );
    return reasons.includes('epoch') ? 'epoch' : reasons.find((r) => r !== undefined);
  }

  private async replayTo(session: SseSession, until: readonly string[]): Promise<void> {
    const page = Math.max(20, Math.ceil(REPLAY_PAGE / this.lanes.length));
    const missed = new MissedNotifications(
      this.lanes.map((lane) => lane.log),
      session.sent,
      until,
      page,
    );
    // a replayed frame's id is the session's own vector, with it
    const frameOf = (e: NotificationEntry) => () =>
      frame(e.method, e.params, formatSseId(this.vector.tag, session.sent));
    for (let next = await missed.next(); next && !session.closed; next = await missed.next()) {
      await session.replay(next.partition, next.entry, frameOf(next.entry));
    }
  }

  private fromTail(lane: PartitionLane, entries: readonly NotificationEntry[]): void {
    for (const e of entries) {
      if (compareStreamIds(e.id, lane.delivered) > 0) this.deliver(lane, e);
    }
  }

  private deliver(lane: PartitionLane, e: NotificationEntry): void {
    lane.delivered = e.id;
    this.vector.advance(lane.partition, e.id);
    if (this.sessions.size === 0) return; // an instance without sessions serialises nothing
    const text = frame(e.method, e.params, this.vector.id);
    let reached = 0;
    for (const s of this.sessions) if (s.offer(lane.partition, e, text)) reached += 1;
    if (reached > 0) recordFanOut(e, reached);
  }

  private heartbeat(): void {
    const ping = frame('ping', { at: new Date().toISOString() }, this.position);
    for (const s of this.sessions) {
      if (!s.live) continue;
      s.sent = [...this.vector.positions];
      s.write(ping);
    }
  }

  /**
   * G5 loss detection in every partition (`PartitionLane.check`); when any partition starts a new
   * epoch, sessions here get one `stream.reset` and go on from the newest entries.
   */
  private async checkEpochs(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const found = await Promise.all(this.lanes.map((lane) => this.checkLane(lane)));
      const lost = this.lanes.filter((_, p) => found[p]?.lost);
      if (lost.length === 0) return;
      this.vector.tag = this.tag();
      for (const lane of lost) this.vector.advance(lane.partition, lane.delivered);
      for (const s of this.sessions) {
        s.sent = [...this.vector.positions];
        s.send('stream.reset', { reason: 'epoch' }, this.position);
      }
      for (const lane of lost) lane.follow();
    } finally {
      this.checking = false;
    }
  }

  private async checkLane(lane: PartitionLane): Promise<LaneCheck | undefined> {
    const { logger } = this.options;
    try {
      const found = await lane.check();
      if (found?.lost) {
        logger.error(
          'notifications stream lost data (Redis restarted without it, or failed over): new epoch; sessions get stream.reset',
          {
            partition: lane.partition,
            oldEpoch: found.oldEpoch,
            epoch: lane.epoch,
            delivered: found.seen,
            newest: found.newest,
          },
        );
      }
      return found;
    } catch (error) {
      logger.warn('notifications epoch check failed; retrying', {
        partition: lane.partition,
        error: String(error),
      });
      return undefined;
    }
  }
}
