import type { Redis } from 'ioredis';
import type { Keys } from '../events/keys.js';
import { LuaScript, replyNumber, replyStrings } from '../events/lua-script.js';
import type { Outcome } from '../events/outcome.js';
import type { OutcomeConfirmer } from '../events/outcome-confirmer.js';
import type { RedisClient } from '../events/redis-connection.js';
import { type CommandEnvelope, keyOf } from './command-bus.js';

const renewScript = LuaScript.load(new URL('./lua/renew-commands-1.lua', import.meta.url));
const retryScript = LuaScript.load(new URL('./lua/retry-command-1.lua', import.meta.url));
const deadLetterScript = LuaScript.load(new URL('./lua/dead-letter-4.lua', import.meta.url));
const ackScript = LuaScript.load(new URL('./lua/ack-command-2.lua', import.meta.url));
const trimScript = LuaScript.load(new URL('./lua/trim-commands-1.lua', import.meta.url));

/** A command stream entry as ioredis returns it. */
export type Entry = [id: string, fields: string[]];

/** A pending entry: id, owner, idle ms, delivery count (`XPENDING` extended form). */
export type PendingEntry = [id: string, owner: string, idleMs: number, deliveries: number];

/**
 * One consumer's operations on the command stream and its group (DESIGN.md §2 G2, §7): every
 * Redis call and script the worker makes, so the worker holds only its policy.
 */
export class CommandGroup {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly group: string,
    readonly consumer: string,
    /** Under REDIS_WAIT_REPLICAS > 0: confirms a dead letter's outcome before it is answered. */
    private readonly confirmer?: OutcomeConfirmer,
  ) {}

  /** Creates the group at 0 (commands sent before any worker ran are handled); idempotent. */
  async ensure(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.commands, this.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /** Reads at most `count` new entries on `reader` (a connection of its own: it blocks). */
  async read(reader: RedisClient, count: number, blockMs: number): Promise<Entry[]> {
    const reply = (await reader.xreadgroup(
      'GROUP',
      this.group,
      this.consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.keys.commands,
      '>',
    )) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Pending entries idle at least `idleMs`, after `cursor` (exclusive), at most `count`. */
  async stale(idleMs: number, cursor: string, count: number): Promise<PendingEntry[]> {
    return (await this.redis.xpending(
      this.keys.commands,
      this.group,
      'IDLE',
      idleMs,
      `(${cursor}`,
      '+',
      count,
    )) as PendingEntry[];
  }

  /** Takes entries still idle at least `idleMs` (skips any renewed or claimed meanwhile). */
  async claim(idleMs: number, ids: readonly string[]): Promise<Entry[]> {
    const claimed = (await (this.redis as Redis).xclaim(
      this.keys.commands,
      this.group,
      this.consumer,
      idleMs,
      ...ids,
    )) as (Entry | null)[];
    return claimed.filter((e): e is Entry => Array.isArray(e) && Array.isArray(e[1]));
  }

  /** Resets the idle time of entries this consumer still owns; returns the ones it lost. */
  async renew(ids: readonly string[]): Promise<string[]> {
    const reply = await renewScript.run(
      this.redis,
      [this.keys.commands],
      [this.group, this.consumer, ...ids],
    );
    return replyStrings(reply.values);
  }

  /**
   * The entries of `ids` still pending under this consumer (neither acknowledged nor taken over by
   * another), asked in one pipeline.
   */
  async owned(ids: readonly string[]): Promise<Set<string>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xpending(this.keys.commands, this.group, id, id, 1);
    const replies = (await pipeline.exec()) ?? [];
    return new Set(
      ids.filter((_, i) => {
        const [error, pending] = replies[i] ?? [];
        const entry = !error && Array.isArray(pending) ? (pending[0] as unknown[]) : undefined;
        return entry?.[1] === this.consumer;
      }),
    );
  }

  /** Counts one more run of an owned entry; its new delivery count, or 0 if it is no longer ours. */
  async retry(entryId: string): Promise<number> {
    const args = [this.group, this.consumer, entryId];
    const reply = await retryScript.run(this.redis, [this.keys.commands], args);
    return reply.status === 'ok' ? replyNumber(reply.values, 0) : 0;
  }

  /** Acknowledges an entry handled without a commit, counting it off the backlog. */
  async ack(entryId: string): Promise<void> {
    await ackScript.run(
      this.redis,
      [this.keys.commands, this.keys.commandBacklog],
      [this.group, entryId],
    );
  }

  /**
   * Moves a command to the dead letters, acks it, records `outcome` and publishes the reply, in one
   * script. False when the command had an outcome already (then it is only acknowledged).
   */
  async deadLetter(
    entryId: string,
    command: CommandEnvelope,
    outcome: Extract<Outcome, { kind: 'dead' }>,
    ttlS: number,
  ): Promise<boolean> {
    const keys = [
      this.keys.commands,
      this.keys.deadCommands,
      this.keys.done(keyOf(command)),
      this.keys.commandBacklog,
    ];
    const args = [
      this.group,
      entryId,
      command.id,
      command.type,
      JSON.stringify(command.data),
      JSON.stringify(command.metadata),
      outcome.lastError,
      outcome.attempts,
      JSON.stringify(outcome),
      ttlS,
      command.metadata.replyTo ?? '',
      keyOf(command),
      this.confirmer ? '1' : '0',
    ];
    if (!this.confirmer)
      return (await deadLetterScript.run(this.redis, keys, args)).status === 'ok';
    // REDIS_WAIT_REPLICAS: WAIT on the script's node, then confirm and reply (or reply the shortfall)
    const { reply, acked } = await deadLetterScript.runAndWait(
      this.redis,
      keys,
      args,
      this.confirmer.wait,
    );
    if (reply.status !== 'ok') return false;
    const channel = command.metadata.replyTo ?? '';
    await this.confirmer.settle([{ key: keyOf(command), channel }], acked);
    return true;
  }

  /** Trims handled commands (MINID below the oldest pending and the first undelivered entry). */
  async trim(): Promise<void> {
    await trimScript.run(this.redis, [this.keys.commands], [this.group]);
  }

  /** Makes owned entries immediately reclaimable by others (shutdown past its grace time). */
  async release(entryIds: readonly string[], idleMs: number): Promise<void> {
    if (entryIds.length === 0) return;
    await (this.redis as Redis).xclaim(
      this.keys.commands,
      this.group,
      this.consumer,
      0,
      ...entryIds,
      'IDLE',
      String(idleMs),
      'JUSTID',
    );
  }

  /** Removes this consumer from the group, only if it holds no pending entry. */
  async deleteConsumerIfIdle(): Promise<void> {
    const pending = (await this.redis.xpending(
      this.keys.commands,
      this.group,
      '-',
      '+',
      1,
      this.consumer,
    )) as unknown[];
    if (pending.length === 0)
      await this.redis.xgroup('DELCONSUMER', this.keys.commands, this.group, this.consumer);
  }
}
