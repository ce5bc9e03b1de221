/**
 * REDIS_WAIT_REPLICAS (DESIGN.md §8): Redis replication is asynchronous, so with n > 0 no answer —
 * reply, poll or re-check — leaves before a `WAIT` saw n replicas take the outcome. The writing
 * scripts store an outcome "not yet confirmed" (its JSON behind `~`) and publish nothing; the
 * writer pipelines its script with `WAIT` and then settles: confirms (strips the mark, publishes
 * the replies) or, short of replicas after REDIS_WAIT_TIMEOUT_MS, publishes a shortfall that the
 * waiting instance answers with -32030. A reader that finds an unconfirmed outcome (the writer
 * died, or its reply was lost) confirms it itself: a write on the outcome's node, then `WAIT`
 * (replication is ordered, so that covers the commit before it), then the mark.
 */
import type { Logger } from '../log.js';
import type { Keys } from './keys.js';
import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-connection.js';
import { shortfallLine } from './unconfirmed.js';

const confirmScript = LuaScript.load(new URL('./lua/confirm-outcomes-n.lua', import.meta.url));

/** What REDIS_WAIT_REPLICAS counted on this instance (mirrored in /metrics). */
export interface ReplicaWaitStats {
  /** WAITs that saw enough replicas. */
  confirmed: number;
  /** WAITs that saw fewer replicas than asked for within the timeout. */
  shortfalls: number;
  /** Commands answered -32030 because of a shortfall. */
  shortfallAnswers: number;
}

/** REDIS_WAIT_REPLICAS > 0: how outcomes are made durable before they are answered. */
export interface ReplicaWait {
  /** REDIS_WAIT_REPLICAS */
  readonly replicas: number;
  /** REDIS_WAIT_TIMEOUT_MS */
  readonly timeoutMs: number;
  readonly stats: ReplicaWaitStats;
  /** Where shortfalls are reported. */
  readonly logger: Logger;
}

/** The settings of REDIS_WAIT_REPLICAS, or undefined for 0 (nothing waits: today's behaviour). */
export function replicaWaitFor(
  replicas: number,
  timeoutMs: number,
  logger: Logger,
): ReplicaWait | undefined {
  if (replicas <= 0) return undefined;
  const stats = { confirmed: 0, shortfalls: 0, shortfallAnswers: 0 };
  return { replicas, timeoutMs, stats, logger };
}

/** An outcome someone may be waiting for: its key and the waiting instance's reply channel. */
export interface Answerable {
  readonly key: string;
  /** '' when nobody waits on a channel (a process step, a command sent without waiting). */
  readonly channel: string;
}

/** A reader's confirmation: the confirmed outcome of each key that has one, or a shortfall. */
export type Confirmation =
  | { readonly confirmed: true; readonly outcomes: ReadonlyMap<string, string> }
  | { readonly confirmed: false; readonly acked: number };

/** Confirms outcomes of one partition's keys (see the module comment). */
export class OutcomeConfirmer {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    readonly wait: ReplicaWait,
  ) {}

  /**
   * After a script whose pipelined WAIT saw `acked` replicas: confirms and publishes the replies,
   * or publishes the shortfall to whoever waits. Never throws: an outcome left unconfirmed is
   * confirmed by the waiting instance's poll.
   */
  async settle(items: readonly Answerable[], acked: number): Promise<void> {
    if (items.length === 0) return;
    try {
      if (acked >= this.wait.replicas) {
        this.wait.stats.confirmed += 1;
        await this.run('confirm', items);
        return;
      }
      this.shortfall(items.length, acked, 'commit');
      await this.publishShortfall(items, acked);
    } catch (error) {
      this.wait.logger.warn('confirming outcomes failed; the waiting instances confirm them', {
        error: String(error),
      });
    }
  }

  /**
   * Confirms unconfirmed outcomes a reader found: a write on their node (the `touch` rewrite),
   * WAIT, then the mark, publishing nothing (the reader answers itself).
   */
  async confirm(keys: readonly string[]): Promise<Confirmation> {
    if (keys.length === 0) return { confirmed: true, outcomes: new Map() };
    const items = keys.map((key) => ({ key, channel: '' }));
    const { acked } = await confirmScript.runAndWait(
      this.redis,
      keys.map((k) => this.keys.done(k)),
      ['touch', ...items.flatMap((i) => [i.key, i.channel])],
      this.wait,
    );
    if (acked < this.wait.replicas) {
      this.shortfall(keys.length, acked, 'reader');
      return { confirmed: false, acked };
    }
    this.wait.stats.confirmed += 1;
    const outcomes = await this.run('confirm', items);
    return { confirmed: true, outcomes };
  }

  /** Counts a -32030 answered to a client. */
  answeredShortfall(commandId: string, acked: number): void {
    this.wait.stats.shortfallAnswers += 1;
    this.wait.logger.warn('command answered -32030: its outcome is not on enough replicas', {
      commandId,
      acked,
      replicas: this.wait.replicas,
    });
  }

  private async run(mode: 'touch' | 'confirm', items: readonly Answerable[]) {
    const reply = await confirmScript.run(
      this.redis,
      items.map((i) => this.keys.done(i.key)),
      [mode, ...items.flatMap((i) => [i.key, i.channel])],
    );
    const outcomes = new Map<string, string>();
    items.forEach((item, i) => {
      const text = reply.values[i];
      if (typeof text === 'string' && text !== '') outcomes.set(item.key, text);
    });
    return outcomes;
  }

  private shortfall(outcomes: number, acked: number, where: 'commit' | 'reader'): void {
    this.wait.stats.shortfalls += 1;
    this.wait.logger.warn(
      `WAIT saw ${acked} of ${this.wait.replicas} replicas within ${this.wait.timeoutMs} ms; outcomes stay unconfirmed and are answered -32030 (REDIS_WAIT_REPLICAS; are the replicas up and linked?)`,
      { where, outcomes, acked, replicas: this.wait.replicas, shortfall: 1 },
    );
  }

  private async publishShortfall(items: readonly Answerable[], acked: number): Promise<void> {
    const lines = new Map<string, string[]>();
    for (const { key, channel } of items) {
      if (channel === '') continue;
      lines.set(channel, [
        ...(lines.get(channel) ?? []),
        shortfallLine(key, acked, this.wait.replicas),
      ]);
    }
    for (const [channel, text] of lines) await this.redis.spublish(channel, text.join('\n'));
  }
}
