/**
 * What every instance must know about SSE sessions it does not hold (Redis, or memory for one
 * instance): each client-chosen session's owner and subscription (so a change made through any
 * instance reaches the one holding the session, and survives reconnects), and presence — which
 * users are connected to which instance, forgotten when an instance stops renewing it. Records
 * are written only for admitted sessions, expire `SESSION_TTL_S` after last use, and one user may
 * keep at most `SSE_MAX_SESSIONS_PER_USER` of them.
 */
import type { SubscriptionSpec } from './routing.js';

/** A session as the directory keeps it. */
export interface SessionRecord {
  readonly userId: string;
  readonly spec: SubscriptionSpec;
}

/** One instance's connected users. */
export interface InstancePresence {
  readonly serverId: string;
  readonly sessions: number;
  readonly users: readonly string[];
}

/** How long a session's subscription is kept after it was last used. */
export const SESSION_TTL_S = 24 * 3600;

/** How long records live, and how many one user may keep. */
export interface DirectoryLimits {
  /** `SSE_MAX_SESSIONS_PER_USER`: client-chosen sessions one user may keep. */
  readonly maxSessionsPerUser: number;
  /** How long a record is kept after its last use (default `SESSION_TTL_S`). */
  readonly ttlMs?: number;
}

/** What `keep` did: kept (created or refreshed), or refused as one session too many. */
export type KeepOutcome = 'kept' | 'too-many';

export interface SessionDirectory {
  get(sessionId: string): Promise<SessionRecord | undefined>;
  /**
   * Keeps a session's record and refreshes its TTL. An existing record keeps its spec unless
   * `replace`; a new one is refused (nothing written) when its owner keeps the most allowed.
   */
  keep(sessionId: string, record: SessionRecord, replace: boolean): Promise<KeepOutcome>;
  /** Tells every instance that `sessionId` changed (they re-read it). */
  announce(sessionId: string): Promise<void>;
  /** Calls `handler` with each announced session id (on this instance). */
  onChange(handler: (sessionId: string) => void): Promise<void>;
  /** Replaces this instance's presence: user id → open sessions; expires after `ttlMs`. */
  setPresence(serverId: string, users: ReadonlyMap<string, number>, ttlMs: number): Promise<void>;
  clearPresence(serverId: string): Promise<void>;
  presence(): Promise<InstancePresence[]>;
  close(): Promise<void>;
}
