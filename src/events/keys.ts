/**
 * Every Redis key streamcast uses, built in this one module (DESIGN.md §3, §8). Each key carries a
 * hash tag, so every script touches a single slot: a partition's keys carry its tag (one partition:
 * `{<prefix>}`), shared keys (servers, presence, SSE sessions, secrets, meta) carry `{<prefix>}`.
 */
import { createHash } from 'node:crypto';

/** The digest naming an idempotency key's record: SHA-256, 96 bits, base64url (16 characters). */
export function recordDigest(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 16);
}

/** The consumer group of the command stream, whose entries every instance's worker shares. */
export const COMMAND_GROUP = 'handlers';

/** The key builder for one `KEY_PREFIX`. */
export interface Keys {
  /** The hash tag of the partition keys (`{prefix}` with one partition); `SCAN MATCH <tag>*` finds them. */
  readonly tag: string;
  /** The hash tag of the shared keys: `{prefix}`. */
  readonly sharedTag: string;
  /** Deployment facts fixed for the data's lifetime (hash: `partitions`). Shared. */
  readonly meta: string;
  /** An entity stream; entry ids are `0-<version>`. */
  stream(streamId: string): string;
  /**
   * An entity's newest snapshot (hash: `v` version, `s` schema, `c` checksum, `d` state JSON), in
   * its stream's slot: a cache, rebuilt from the events when wrong (src/commands/snapshots.ts).
   */
  snapshot(streamId: string): string;
  /** The global log of every event; entry id = global position. */
  readonly all: string;
  /**
   * The newest log entry id retention removed (string; absent before the first trim): a read after
   * a position below it finds what follows in the archive, not in Redis (src/events/trimmer.ts).
   */
  readonly logTrimmed: string;
  /** Notifications for SSE delivery (MAXLEN ~ NOTIFY_RETENTION). */
  readonly notify: string;
  /** The notifications stream's epoch (DESIGN.md G5). */
  readonly notifyEpoch: string;
  /**
   * The record of an idempotency key — a command's `<userId>:<commandId>` (a command id identifies
   * one command of one user) or a process step key: sent, then its outcome by reference
   * (command-records.ts). Named by a 96-bit digest of the key, so its size does not grow with it.
   */
  done(idempotencyKey: string): string;
  /** The command stream, read by the consumer group `handlers`. */
  readonly commands: string;
  /** Commands enqueued and not yet acknowledged (a counter: the backlog COMMAND_BACKLOG_MAX bounds). */
  readonly commandBacklog: string;
  /** Dead-lettered commands. */
  readonly deadCommands: string;
  /** A job queue (stream with a consumer group), e.g. `deploy`; its dead letters add `:dead`. */
  jobs(queue: string): string;
  /** Pub/sub channel on which an instance hears that its commands were handled. */
  reply(serverId: string): string;
  /** Live instances (zset: `SERVER_ID` scored by its lease expiry, ms of the Redis clock). */
  readonly servers: string;
  /** The process holding each live `SERVER_ID` (hash: id → JSON `{incarnation, host, pid, …}`). */
  readonly serverInfo: string;
  /** A projection's state: `checkpoint`, `fence`, `generation`, `leader` (DESIGN.md §3). */
  projection(name: string): string;
  /** A projection's lease (`<owner> <fence>`, expires after LEASE_TTL_MS without renewal). */
  lease(name: string): string;
  /** Pub/sub channel announcing each live checkpoint a projection commits (`<name>\t<checkpoint>`). */
  readonly projectionCheckpoints: string;
  /** A projection's read-model keys start with this; each generation's follow as `<gen>:ids`, `<gen>:d:<id>`. */
  readModel(name: string): string;
  /** An SSE session's owner and subscription (hash, kept for reconnects with the same `sessionId`). */
  sseSession(sessionId: string): string;
  /** The client-chosen SSE sessions a user keeps (zset: session id → expiry, ms of the Redis clock). */
  sseUserSessions(userId: string): string;
  /** Pub/sub channel announcing a changed SSE subscription (message: the session id). */
  readonly sseChanges: string;
  /** Who is connected to an instance (hash: user id → sessions; expires without heartbeats). */
  presence(serverId: string): string;
  /** A connection's secrets: AES-256-GCM ciphertext only (string, written once; DESIGN.md §3). */
  secret(connectionId: string): string;
}

/**
 * Builds the keys for `prefix` (SPEC.md `KEY_PREFIX`, default `sc`); partition keys carry
 * `{<partitionTag>}` (partitions.ts), or `{prefix}` without one.
 */
export function keysFor(prefix: string, partitionTag = prefix): Keys {
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(prefix)) {
    throw new Error(`KEY_PREFIX "${prefix}" must be 1-64 characters of A-Z a-z 0-9 . _ : -`);
  }
  const tag = `{${partitionTag}}`;
  const sharedTag = `{${prefix}}`;
  return {
    tag,
    sharedTag,
    meta: `${sharedTag}:meta`,
    stream: (streamId) => `${tag}:s:${streamId}`,
    snapshot: (streamId) => `${tag}:snap:${streamId}`,
    all: `${tag}:all`,
    logTrimmed: `${tag}:all:trimmed`,
    notify: `${tag}:notify`,
    notifyEpoch: `${tag}:notify:epoch`,
    done: (key) => `${tag}:c:${recordDigest(key)}`,
    commands: `${tag}:cmd`,
    commandBacklog: `${tag}:cmd:backlog`,
    deadCommands: `${tag}:cmd:dead`,
    reply: (serverId) => `${tag}:reply:${serverId}`,
    jobs: (queue) => `${tag}:jobs:${queue}`,
    servers: `${sharedTag}:servers`,
    serverInfo: `${sharedTag}:servers:info`,
    projection: (name) => `${tag}:proj:${name}`,
    lease: (name) => `${tag}:proj:${name}:lease`,
    projectionCheckpoints: `${tag}:proj:checkpoints`,
    readModel: (name) => `${tag}:rm:${name}:`,
    sseSession: (sessionId) => `${sharedTag}:sse:session:${sessionId}`,
    sseUserSessions: (userId) => `${sharedTag}:sse:user:${userId}`,
    sseChanges: `${sharedTag}:sse:changes`,
    presence: (serverId) => `${sharedTag}:presence:${serverId}`,
    secret: (connectionId) => `${sharedTag}:secret:${connectionId}`,
  };
}
