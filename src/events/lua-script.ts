/**
 * Lua scripts, bullmq's way: each in its own file `lua/<name>-<numKeys>.lua` opening with a header
 * of its KEYS, ARGV and replies, and all replying by one convention, decoded here:
 *
 *   {1, …}          ok: done, with its values
 *   {0, …}          duplicate: the key or command had an outcome already; nothing written
 *   {-1, …}         conflict: a version, fence or checkpoint did not match; nothing written
 *   {-2, reason, …} refused: a limit or precondition (`reason` names it); nothing written
 *
 * Each caller turns the reply into its typed result in one function per script.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis-connection.js';

/** A value of a script's reply as ioredis hands it over. */
export type ReplyValue = string | number | null | readonly ReplyValue[];

/** A decoded script reply (see the module comment). */
export type ScriptReply =
  | { readonly status: 'ok' | 'duplicate' | 'conflict'; readonly values: readonly ReplyValue[] }
  | { readonly status: 'refused'; readonly reason: string; readonly values: readonly ReplyValue[] };

const STATUS = { 1: 'ok', 0: 'duplicate', [-1]: 'conflict' } as const;

function isReplyValue(value: unknown): value is ReplyValue {
  if (value === null || typeof value === 'string' || typeof value === 'number') return true;
  return Array.isArray(value) && value.every(isReplyValue);
}

/**
 * A Lua script from `lua/<name>-<numKeys>.lua`, run with EVALSHA and loaded on NOSCRIPT (after a
 * Redis restart or failover the script cache is empty).
 */
export class LuaScript {
  readonly sha: string;
  private constructor(
    readonly name: string,
    readonly source: string,
    readonly numKeys: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Loads a script file (`new URL('./lua/x-2.lua', import.meta.url)`); the key count comes from its
   * name, `n` for a script that takes as many keys as it is given (`commit-batch-n.lua`).
   */
  static load(url: URL): LuaScript {
    const file = url.pathname.split('/').at(-1) ?? '';
    const match = /^(.+)-(\d+|n)\.lua$/.exec(file);
    if (!match) throw new Error(`Lua file ${file} must be named <name>-<numKeys or n>.lua`);
    const source = readFileSync(url, 'utf8');
    return new LuaScript(match[1]!, source, match[2] === 'n' ? -1 : Number(match[2]));
  }

  /** Runs the script; `keys` must hold exactly `numKeys` keys (any number for an `-n` script). */
  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<ScriptReply> {
    if (this.numKeys >= 0 && keys.length !== this.numKeys)
      throw new Error(`${this.name} takes ${this.numKeys} keys, got ${keys.length}`);
    let raw: unknown;
    try {
      raw = await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      raw = await redis.eval(this.source, keys.length, ...keys, ...args);
    }
    return this.decode(raw);
  }

  /**
   * Runs the script and `WAIT replicas timeoutMs` in one pipeline, so the keyless WAIT goes to the
   * script's node, on the connection that wrote (REDIS_WAIT_REPLICAS, DESIGN.md §8). Resolves with
   * the reply and the number of replicas that acknowledged the script's writes.
   */
  async runAndWait(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
    wait: { readonly replicas: number; readonly timeoutMs: number },
  ): Promise<{ readonly reply: ScriptReply; readonly acked: number }> {
    if (this.numKeys >= 0 && keys.length !== this.numKeys)
      throw new Error(`${this.name} takes ${this.numKeys} keys, got ${keys.length}`);
    const send = (loaded: boolean) => {
      const pipeline = redis.pipeline();
      if (loaded) pipeline.evalsha(this.sha, keys.length, ...keys, ...args);
      else pipeline.eval(this.source, keys.length, ...keys, ...args);
      pipeline.call('WAIT', wait.replicas, wait.timeoutMs);
      return pipeline.exec();
    };
    let results = await send(true);
    if (results?.[0]?.[0]?.message.startsWith('NOSCRIPT')) results = await send(false);
    const [[scriptError, raw] = [], [waitError, acked] = []] = results ?? [];
    if (scriptError) throw scriptError;
    if (waitError) throw waitError;
    return { reply: this.decode(raw), acked: Number(acked) };
  }

  /** The reply by the convention, or an error naming the script that broke it. */
  private decode(raw: unknown): ScriptReply {
    if (!Array.isArray(raw) || typeof raw[0] !== 'number' || !raw.every(isReplyValue)) {
      throw new Error(`script ${this.name} replied ${JSON.stringify(raw)}: not {code, …}`);
    }
    const [code, ...values] = raw as [number, ...ReplyValue[]];
    if (code === -2) {
      const [reason, ...rest] = values;
      return { status: 'refused', reason: String(reason), values: rest };
    }
    const status = STATUS[code as keyof typeof STATUS];
    if (!status) throw new Error(`script ${this.name} replied with unknown code ${code}`);
    return { status, values };
  }
}

/** The string at `index` of a reply's values (a number is given as its decimal text). */
export function replyString(values: readonly ReplyValue[], index: number): string {
  const value = values[index];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new Error(`expected a string at ${index} of a script reply, got ${JSON.stringify(value)}`);
}

/** The number at `index` of a reply's values. */
export function replyNumber(values: readonly ReplyValue[], index: number): number {
  const value = Number(values[index]);
  if (values[index] === null || Number.isNaN(value)) {
    throw new Error(
      `expected a number at ${index} of a script reply, got ${JSON.stringify(values[index])}`,
    );
  }
  return value;
}

/** The strings of a reply's values from `index` on. */
export function replyStrings(values: readonly ReplyValue[], from = 0): string[] {
  return values.slice(from).map((_, i) => replyString(values, from + i));
}
