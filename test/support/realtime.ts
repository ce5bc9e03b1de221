import type { Redis } from 'ioredis';
import { RpcClient } from '../../src/client/index.js';
import { keysFor } from '../../src/index.js';

/** Every entry id of the test prefix's notifications stream, oldest first. */
export async function notifyIds(redis: Redis, prefix: string, after = '-'): Promise<string[]> {
  const entries = await redis.xrange(
    keysFor(prefix).notify,
    after === '-' ? '-' : `(${after}`,
    '+',
  );
  return entries.map(([id]) => id);
}

/** The newest entry id of the notifications stream ('0-0' when empty). */
export async function notifyHead(redis: Redis, prefix: string): Promise<string> {
  const [newest] = await redis.xrevrange(keysFor(prefix).notify, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}

/** A JSON-RPC client acting as `userId` (AUTH_MODE=none headers). */
export function rpcAs(url: string, userId: string, extra: Record<string, string> = {}): RpcClient {
  return new RpcClient({ url, headers: { 'X-User-Id': userId, ...extra } });
}

/** Sends `message.broadcast` as the admin `oak`. */
export function adminMessage(url: string, params: Record<string, unknown>): Promise<unknown> {
  return rpcAs(url, 'oak', { 'X-User-Roles': 'admin' }).call('message.broadcast', params);
}

/** True when `ids` are strictly increasing stream ids without repeats. */
export function strictlyIncreasing(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    const [am, as] = ids[i - 1]!.split('-').map(BigInt);
    const [bm, bs] = ids[i]!.split('-').map(BigInt);
    if (!(am! < bm! || (am === bm && as! < bs!))) return false;
  }
  return true;
}
