/**
 * The instance registry `{sc}:servers` (DESIGN.md §3): each live instance holds its `SERVER_ID`
 * with a heartbeat, so a second process started with the same id is refused. Two processes under
 * one id would be one consumer of the command group, renewing and releasing each other's commands.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Keys } from '../events/keys.js';
import { LuaScript, replyNumber, replyString, type ScriptReply } from '../events/lua-script.js';
import type { RedisClient } from '../events/redis-connection.js';
import type { ReadinessCheck } from '../http/health.js';
import type { Logger } from '../log.js';

const joinScript = LuaScript.load(new URL('./lua/join-instance-2.lua', import.meta.url));
const heartbeatScript = LuaScript.load(new URL('./lua/heartbeat-instance-2.lua', import.meta.url));
const leaveScript = LuaScript.load(new URL('./lua/leave-instance-2.lua', import.meta.url));

/** Who holds a `SERVER_ID`: stored beside the id, shown when a duplicate is refused. */
export interface InstanceInfo {
  /** Random per process: tells this process from a later one under the same id. */
  readonly incarnation: string;
  readonly host: string;
  readonly pid: number;
  readonly port?: number;
  /** ISO time the process joined. */
  readonly startedAt: string;
  /** The key id of the SECRET_KEY it seals under (rotate-secrets waits for every instance). */
  readonly secretKeyId?: string;
}

/** What `join` found. */
export type JoinResult =
  | { readonly joined: true }
  | { readonly joined: false; readonly holder?: InstanceInfo; readonly expiresInMs: number };

/** Settings of an `InstanceRegistry`. */
export interface InstanceRegistryOptions {
  readonly serverId: string;
  /** `SERVER_TTL_MS`: an instance that stops heartbeating is considered gone after this long. */
  readonly ttlMs: number;
  /** Shown to an operator who starts a duplicate. */
  readonly port?: number;
  /** The key id of this instance's SECRET_KEY, recorded in its entry. */
  readonly secretKeyId?: string;
  readonly logger: Logger;
  /** Called once if another process takes this id over (after this one stopped heartbeating). */
  readonly onLost?: (holder: InstanceInfo | undefined) => void;
}

/** This process's entry in `{sc}:servers`: join, heartbeat every TTL/3, leave on shutdown. */
export class InstanceRegistry {
  /** This process's identity record. */
  readonly info: InstanceInfo;
  private timer: NodeJS.Timeout | undefined;
  private joined = false;
  private lost = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: InstanceRegistryOptions,
  ) {
    this.info = {
      incarnation: randomUUID(),
      host: hostname(),
      pid: process.pid,
      ...(options.port !== undefined ? { port: options.port } : {}),
      startedAt: new Date().toISOString(),
      ...(options.secretKeyId !== undefined ? { secretKeyId: options.secretKeyId } : {}),
    };
  }

  /** Takes the id unless a live instance holds it; on success heartbeats until `leave`. */
  async join(): Promise<JoinResult> {
    const reply = await joinScript.run(
      this.redis,
      [this.keys.servers, this.keys.serverInfo],
      [this.options.serverId, JSON.stringify(this.info), this.options.ttlMs],
    );
    if (reply.status !== 'ok') {
      const holder = parseInfo(replyString(reply.values, 1));
      return { joined: false, holder, expiresInMs: replyNumber(reply.values, 0) };
    }
    this.joined = true;
    const every = Math.max(Math.floor(this.options.ttlMs / 3), 20);
    this.timer = setInterval(() => void this.heartbeat(), every);
    this.timer.unref();
    return { joined: true };
  }

  /** Readiness fails once another process has taken this id over. */
  readonly readiness: ReadinessCheck = {
    name: 'identity',
    check: () =>
      this.lost
        ? { ok: false, reason: `SERVER_ID ${this.options.serverId} is held by another process` }
        : { ok: true },
  };

  /** Stops heartbeating and removes this process's entry (never another process's); idempotent. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (!this.joined || this.lost) return;
    this.joined = false;
    await leaveScript.run(
      this.redis,
      [this.keys.servers, this.keys.serverInfo],
      [this.options.serverId, this.info.incarnation],
    );
  }

  /** The ids of every live instance, by the Redis clock. */
  static async live(redis: RedisClient, keys: Keys): Promise<string[]> {
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return redis.zrangebyscore(keys.servers, `(${now}`, '+inf');
  }

  /** Every live instance with its entry (undefined when unreadable), by the Redis clock. */
  static async liveEntries(
    redis: RedisClient,
    keys: Keys,
  ): Promise<{ serverId: string; info: InstanceInfo | undefined }[]> {
    const ids = await InstanceRegistry.live(redis, keys);
    if (ids.length === 0) return [];
    const infos = await redis.hmget(keys.serverInfo, ...ids);
    return ids.map((serverId, i) => ({ serverId, info: parseInfo(infos[i] ?? '') }));
  }

  private async heartbeat(): Promise<void> {
    let reply: ScriptReply;
    try {
      reply = await heartbeatScript.run(
        this.redis,
        [this.keys.servers, this.keys.serverInfo],
        [
          this.options.serverId,
          JSON.stringify(this.info),
          this.info.incarnation,
          this.options.ttlMs,
        ],
      );
    } catch (error) {
      this.options.logger.warn(`instance heartbeat failed; retrying: ${String(error)}`);
      return;
    }
    if (reply.status !== 'ok') this.onLost(parseInfo(replyString(reply.values, 0)));
    else if (replyString(reply.values, 0) === 'rejoined') {
      this.options.logger.warn(
        `SERVER_ID ${this.options.serverId} had lapsed in {sc}:servers (no heartbeat for SERVER_TTL_MS ${this.options.ttlMs}); registered it again`,
      );
    }
  }

  private onLost(holder: InstanceInfo | undefined): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.options.logger.error(
      `SERVER_ID ${this.options.serverId} was taken over by ${describeHolder(holder)} after this instance missed its heartbeats; this instance stops so that two processes never share one id. Restart it with a distinct SERVER_ID (or leave SERVER_ID unset).`,
    );
    this.options.onLost?.(holder);
  }
}

/** `pid 123 on host-a (port 8081, since …)`, or a neutral phrase when unknown. */
export function describeHolder(holder: InstanceInfo | undefined): string {
  if (!holder) return 'another process';
  const port = holder.port !== undefined ? `port ${holder.port}, ` : '';
  return `pid ${holder.pid} on ${holder.host} (${port}since ${holder.startedAt})`;
}

const infoSchema = z.object({
  incarnation: z.string(),
  host: z.string(),
  pid: z.number(),
  port: z.number().optional(),
  startedAt: z.string(),
  secretKeyId: z.string().optional(),
});

function parseInfo(text: string): InstanceInfo | undefined {
  try {
    const parsed = infoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
