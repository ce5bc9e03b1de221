import { CommandTimeoutError, ReplicaShortfallError } from '../errors.js';
import { closeOnce } from '../events/close-once.js';
import type { CommandRecords } from '../events/command-records.js';
import type { Keys } from '../events/keys.js';
import type { Outcome } from '../events/outcome.js';
import type { OutcomeConfirmer } from '../events/outcome-confirmer.js';
import { dedicated, type RedisClient } from '../events/redis-connection.js';
import { isUnconfirmed, shortfallOf } from '../events/unconfirmed.js';
import type { Logger } from '../log.js';

const BACKSTOP_POLL_MS = 1000;

interface Waiter {
  readonly commandId: string;
  resolve(outcome: Outcome): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Waits for commands' outcomes. The append script publishes each handled command's key
 * (`<userId>:<commandId>`) with its outcome on this instance's reply channel; a poll reads it from
 * the command's record `{sc}:c:<digest>` (command-records.ts). A publish can be lost (the
 * subscriber was reconnecting), so outstanding ids are re-checked when the subscriber reconnects
 * and polled every second as a backstop: a lost publish costs a second, not the timeout.
 * Under REDIS_WAIT_REPLICAS a reply is published only once confirmed, or as a shortfall (answered
 * -32030); a poll that finds an outcome not yet confirmed confirms it itself before answering.
 */
export class ReplyWaiter {
  readonly channel: string;
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly subscriber: RedisClient;
  private readonly poll: NodeJS.Timeout;
  private ready: Promise<unknown>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    serverId: string,
    private readonly logger: Logger,
    private readonly records: CommandRecords,
    private readonly confirmer?: OutcomeConfirmer,
  ) {
    this.channel = keys.reply(serverId);
    this.subscriber = dedicated(redis);
    this.subscriber.on('error', () => {}); // the main connection reports outages
    this.subscriber.on('smessage', (_channel: string, message: string) => this.heard(message));
    this.subscriber.on('ready', () => void this.check([...this.waiters.keys()]));
    this.ready = this.subscriber.ssubscribe(this.channel);
    this.ready.catch(() => {}); // closed before subscribing: start() reports it to whoever awaits it
    this.poll = setInterval(() => void this.check([...this.waiters.keys()]), BACKSTOP_POLL_MS);
    this.poll.unref();
  }

  /** Resolves once subscribed, so no reply published after it can be missed. */
  async start(): Promise<void> {
    await this.ready;
  }

  /**
   * Registers interest in the command of `key` (`<userId>:<commandId>`; call before enqueueing
   * it): `outcome` resolves with its outcome or rejects with `CommandTimeoutError`; `cancel` stops
   * this wait (others go on).
   */
  wait(
    key: string,
    commandId: string,
    timeoutMs: number,
  ): { readonly outcome: Promise<Outcome>; cancel(): void } {
    let waiter: Waiter | undefined;
    const outcome = new Promise<Outcome>((resolve, reject) => {
      const self: Waiter = {
        resolve,
        reject,
        commandId,
        timer: setTimeout(() => {
          this.drop(key, self);
          reject(new CommandTimeoutError(commandId));
        }, timeoutMs),
      };
      waiter = self;
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), self]);
    });
    outcome.catch(() => {}); // the caller observes it; never an unhandled rejection
    return { outcome, cancel: () => waiter && this.drop(key, waiter) };
  }

  private drop(key: string, waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const rest = (this.waiters.get(key) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.waiters.set(key, rest);
    else this.waiters.delete(key);
  }

  readonly close = closeOnce(async (): Promise<void> => {
    clearInterval(this.poll);
    for (const list of this.waiters.values()) {
      for (const waiter of list) {
        clearTimeout(waiter.timer);
        waiter.reject(new CommandTimeoutError(waiter.commandId));
      }
    }
    this.waiters.clear();
    this.subscriber.disconnect();
  });

  /**
   * A reply message: one line per handled command, `<key>\t<outcome JSON>` (a commit batch
   * publishes all of an instance's keys at once); every waiter of those keys is answered in one pass.
   */
  private heard(message: string): void {
    for (const line of message.split('\n')) {
      const tab = line.indexOf('\t');
      const key = tab < 0 ? line : line.slice(0, tab);
      if (!this.waiters.has(key)) continue;
      if (tab < 0) {
        void this.check([key]); // a key without its outcome: read it
        continue;
      }
      const shortfall = shortfallOf(line.slice(tab + 1));
      if (shortfall) {
        this.fallShort(key, shortfall.acked);
        continue;
      }
      void this.resolve(key, line.slice(tab + 1)).catch((error: unknown) => {
        this.logger.warn('an unreadable reply; reading the outcome instead', {
          error: String(error),
        });
        void this.check([key]);
      });
    }
  }

  /** Answers the waiters of `key` -32030: its outcome is not on enough replicas. */
  private fallShort(key: string, acked: number): void {
    for (const waiter of this.waiters.get(key) ?? []) {
      this.drop(key, waiter);
      this.confirmer?.answeredShortfall(waiter.commandId, acked);
      const replicas = this.confirmer?.wait.replicas ?? 0;
      waiter.reject(new ReplicaShortfallError(waiter.commandId, replicas, acked));
    }
  }

  /** Answers the waiters of `key` with the outcome of a record (an outcome JSON is one too). */
  private async resolve(key: string, stored: string): Promise<void> {
    const outcome = await this.records.outcomeOf(stored);
    if (outcome) this.settle(key, outcome);
  }

  private settle(key: string, outcome: Outcome): void {
    for (const waiter of this.waiters.get(key) ?? []) {
      this.drop(key, waiter);
      waiter.resolve(outcome);
    }
  }

  private async check(ids: readonly string[]): Promise<void> {
    const wanted = ids.filter((id) => this.waiters.has(id));
    if (wanted.length === 0) return;
    let values: (string | null)[];
    try {
      values = await this.redis.mget(...wanted.map((id) => this.keys.done(id)));
    } catch (error) {
      this.logger.warn('reading command outcomes failed; the next poll retries', {
        error: String(error),
      });
      return;
    }
    const unconfirmed: string[] = [];
    const resolving: Promise<void>[] = [];
    values.forEach((stored, i) => {
      if (stored === null) return;
      if (this.confirmer && isUnconfirmed(stored)) unconfirmed.push(wanted[i]!);
      else resolving.push(this.resolve(wanted[i]!, stored));
    });
    await this.settled(resolving);
    if (unconfirmed.length > 0) await this.confirm(unconfirmed);
  }

  /** Waits for outcomes being read; one that cannot be read is logged (the next poll retries). */
  private async settled(resolving: readonly Promise<void>[]): Promise<void> {
    for (const result of await Promise.allSettled(resolving)) {
      if (result.status === 'rejected') {
        this.logger.warn('reading a command outcome failed; the next poll retries', {
          error: String(result.reason),
        });
      }
    }
  }

  /** Outcomes found unconfirmed (their writer died or its reply was lost): confirms them first. */
  private async confirm(keys: readonly string[]): Promise<void> {
    try {
      const confirmation = await this.confirmer!.confirm(keys);
      if (!confirmation.confirmed) {
        for (const key of keys) this.fallShort(key, confirmation.acked);
        return;
      }
      await this.settled([...confirmation.outcomes].map(([key, s]) => this.resolve(key, s)));
    } catch (error) {
      this.logger.warn('confirming command outcomes failed; the next poll retries', {
        error: String(error),
      });
    }
  }
}
