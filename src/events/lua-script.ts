import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

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

  /** Loads a script file (`new URL('./lua/x-2.lua', import.meta.url)`); the key count comes from its name. */
  static load(url: URL): LuaScript {
    const file = url.pathname.split('/').at(-1) ?? '';
    const match = /^(.+)-(\d+)\.lua$/.exec(file);
    if (!match) throw new Error(`Lua file ${file} must be named <name>-<numKeys>.lua`);
    const source = readFileSync(url, 'utf8');
    return new LuaScript(match[1]!, source, Number(match[2]));
  }

  /** Runs the script; `keys` must hold exactly `numKeys` keys. */
  async run(
    redis: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    if (keys.length !== this.numKeys)
      throw new Error(`${this.name} takes ${this.numKeys} keys, got ${keys.length}`);
    try {
      return await redis.evalsha(this.sha, this.numKeys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, this.numKeys, ...keys, ...args);
    }
  }
}
