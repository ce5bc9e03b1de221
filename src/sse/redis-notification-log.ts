import { randomBytes } from 'node:crypto';
import type { Json } from '../events/envelope.js';
import { isJsonObject } from '../events/json.js';
import type { Keys } from '../events/keys.js';
import { LuaScript, replyString } from '../events/lua-script.js';
import { readLoop } from '../events/read-loop.js';
import { dedicated, onConnectionLost, type RedisClient } from '../events/redis-connection.js';
import { fieldMap, readAfter, type StreamEntry } from '../events/redis-entries.js';
import type { Logger } from '../log.js';
import type { NotificationEntry, NotificationLog, Retention, Tail } from './notification-log.js';

const BLOCK_MS = 2000;
const BATCH = 500;

const renewEpochScript = LuaScript.load(new URL('./lua/renew-epoch-1.lua', import.meta.url));

/** A notification's params, checked: a JSON object (the append script wrote one). */
function paramsOf(text: string | undefined): { readonly [k: string]: Json } {
  const params: unknown = JSON.parse(text ?? '{}');
  if (!isJsonObject(params))
    throw new Error('a stored notification has params that are not an object');
  return params;
}

function targetOf(target: string | undefined): NotificationEntry['target'] {
  if (target === 'user' || target === 'group' || target === 'broadcast') return target;
  throw new Error(`a stored notification has an unknown target ${JSON.stringify(target)}`);
}

/** Decodes a `{sc}:notify` entry (fields as the append script writes them). */
export function decodeNotification([id, flat]: StreamEntry): NotificationEntry {
  const f = fieldMap(flat);
  return {
    id,
    method: f.method ?? '',
    params: paramsOf(f.params),
    target: targetOf(f.target),
    targetIds: f.targetIds ? f.targetIds.split(',') : [],
    topic: f.topic ?? '',
    serverId: f.serverId ?? '',
    ...(f.trace ? { traceparent: f.trace } : {}),
  };
}

const newEpoch = () => randomBytes(6).toString('hex');

/** The notifications stream on Redis. */
export class RedisNotificationLog implements NotificationLog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly logger: Logger,
  ) {}

  async epoch(): Promise<string> {
    await this.redis.set(this.keys.notifyEpoch, newEpoch(), 'NX');
    return (await this.redis.get(this.keys.notifyEpoch)) ?? this.epoch();
  }

  async renewEpoch(old: string): Promise<string> {
    const reply = await renewEpochScript.run(
      this.redis,
      [this.keys.notifyEpoch],
      [old, newEpoch()],
    );
    return replyString(reply.values, 0);
  }

  async retention(): Promise<Retention> {
    try {
      // trimming does not move max-deleted-entry-id (only XDEL does): compare counts instead
      const info = fieldMap((await this.redis.xinfo('STREAM', this.keys.notify)) as unknown[]);
      const first = info['first-entry'] as [string, string[]] | null;
      return {
        newest: String(info['last-generated-id'] ?? '0-0'),
        ...(first ? { oldest: first[0] } : {}),
        trimmed:
          Number(info['entries-added']) > Number(info.length) ||
          String(info['max-deleted-entry-id']) !== '0-0',
      };
    } catch (error) {
      if (String(error).includes('no such key')) return { newest: '0-0', trimmed: false };
      throw error;
    }
  }

  async range(after: string, until: string, count: number): Promise<NotificationEntry[]> {
    const entries = (await this.redis.xrange(
      this.keys.notify,
      `(${after}`,
      until,
      'COUNT',
      count,
    )) as StreamEntry[];
    return entries.map(decodeNotification);
  }

  /** The entries decoded; one that cannot be (written by no version of this code) is logged and skipped. */
  private decodeAll(entries: readonly StreamEntry[]): NotificationEntry[] {
    const decoded: NotificationEntry[] = [];
    for (const entry of entries) {
      try {
        decoded.push(decodeNotification(entry));
      } catch (error) {
        this.logger.error('skipping an undecodable notification', {
          id: entry[0],
          error: String(error),
        });
      }
    }
    return decoded;
  }

  follow(
    after: string,
    handler: (entries: readonly NotificationEntry[]) => void,
    onInterrupted?: () => void,
  ): Tail {
    const conn = dedicated(this.redis, { blocking: true });
    conn.on('error', () => {}); // reported by the loop
    let cursor = after;
    const loop = readLoop<StreamEntry>({
      what: 'notifications tail read (retried from its own last id)',
      logger: this.logger,
      read: () => readAfter(conn, this.keys.notify, cursor, BATCH, BLOCK_MS),
      handle: (entries) => {
        cursor = entries.at(-1)![0];
        handler(this.decodeAll(entries));
      },
      interrupt: () => conn.disconnect(),
    });
    // its reads wait for a reconnect or a failover (they do not fail): losing a connection is the sign
    onConnectionLost(conn, () => {
      if (!loop.closing) onInterrupted?.();
    });
    return { close: loop.close };
  }
}
