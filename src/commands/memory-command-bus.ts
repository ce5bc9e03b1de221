import { CommandTimeoutError, NotFoundError, OverloadedError } from '../errors.js';
import { closeOnce } from '../events/close-once.js';
import type { EventStore } from '../events/event-store.js';
import type { Outcome } from '../events/outcome.js';
import { assertIdempotencyKey } from '../events/prepare-append.js';
import type { Logger } from '../log.js';
import {
  type CommandBus,
  type CommandEnvelope,
  type CommandStatus,
  commandKey,
  type DeadLetter,
  type EntryProcessor,
  keyOf,
  type SendOptions,
  type SendResult,
  type Worker,
} from './command-bus.js';
import { describeError } from './runtime.js';

/** Settings of the in-process bus (the same names as the Redis one). */
export interface MemoryCommandBusOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backlogMax: number;
  readonly concurrency: number;
  readonly logger: Logger;
}

interface Waiter {
  resolve(outcome: Outcome): void;
  reject(error: Error): void;
}

/**
 * In-process `CommandBus` with the Redis bus's semantics (enqueue once per id, one recorded outcome
 * per command, retries then dead letters), for `npm start` without Redis and for fast tests. It
 * works through the ports only: outcomes live in the event store (recorded by the runtime that
 * commits them), dead letters and the waiting callers here.
 */
export class MemoryCommandBus implements CommandBus {
  private readonly dead: DeadLetter[] = [];
  private readonly queue: CommandEnvelope[] = [];
  /** Keys (`<userId>:<commandId>`) of the commands enqueued and not handled yet. */
  private readonly sent = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private processor: EntryProcessor | undefined;
  private running = 0;
  private closed = false;

  /**
   * @param store where handled commands' outcomes are recorded (by the runtime that commits them).
   */
  constructor(
    private readonly store: Pick<EventStore, 'getOutcome'>,
    private readonly options: MemoryCommandBusOptions,
  ) {}

  async send(command: CommandEnvelope, options: SendOptions = {}): Promise<SendResult> {
    const key = keyOf(command);
    assertIdempotencyKey(key);
    // listen first, then look: an outcome recorded in between is not missed
    const waiting =
      (options.wait ?? true)
        ? this.waitFor(key, command.id, options.timeoutMs ?? this.options.timeoutMs)
        : undefined;
    waiting?.catch(() => {});
    const recorded = await this.outcomeOf(key);
    if (recorded) {
      this.settle(key, recorded);
      return { status: 'handled', outcome: recorded };
    }
    if (!this.sent.has(key)) {
      if (this.queue.length + this.running >= this.options.backlogMax) {
        throw new OverloadedError(
          `${this.queue.length} commands are waiting (COMMAND_BACKLOG_MAX); retry later`,
          1000,
        );
      }
      this.sent.add(key);
      this.queue.push(command);
      this.pump();
    }
    if (!waiting) return { status: 'queued' };
    return { status: 'handled', outcome: await waiting };
  }

  async serve(processor: EntryProcessor): Promise<Worker> {
    this.processor = processor;
    this.pump();
    return { close: () => this.close() };
  }

  async status(userId: string, commandId: string): Promise<CommandStatus> {
    const key = commandKey(userId, commandId);
    assertIdempotencyKey(key);
    const outcome = await this.outcomeOf(key);
    if (outcome) return { status: outcome.kind === 'dead' ? 'dead' : 'handled', outcome };
    return this.sent.has(key) ? { status: 'pending' } : { status: 'unknown' };
  }

  async deadLetters(limit = 100): Promise<readonly DeadLetter[]> {
    return this.dead.slice(0, limit);
  }

  async redrive(userId: string, commandId: string): Promise<void> {
    const key = commandKey(userId, commandId);
    assertIdempotencyKey(key);
    const index = this.dead.findIndex((d) => keyOf(d.command) === key);
    if (index < 0) throw new NotFoundError('dead command', commandId);
    const [dead] = this.dead.splice(index, 1);
    this.sent.add(key);
    this.queue.push(dead!.command);
    this.pump();
  }

  readonly close = closeOnce(async (): Promise<void> => {
    this.closed = true;
    while (this.running > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  /** The recorded outcome: dead letters are kept here, everything else by the event store. */
  private async outcomeOf(key: string): Promise<Outcome | undefined> {
    const dead = this.dead.find((d) => keyOf(d.command) === key);
    if (dead) return { kind: 'dead', attempts: dead.attempts, lastError: dead.error };
    return this.store.getOutcome(key);
  }

  private waitFor(key: string, commandId: string, timeoutMs: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(key, waiter);
        reject(new CommandTimeoutError(commandId));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
        reject,
      };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), waiter]);
    });
  }

  private drop(key: string, waiter: Waiter): void {
    const rest = (this.waiters.get(key) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.waiters.set(key, rest);
    else this.waiters.delete(key);
  }

  /** Answers everyone waiting for the command of `key`. */
  private settle(key: string, outcome: Outcome): void {
    const waiting = this.waiters.get(key) ?? [];
    this.waiters.delete(key);
    for (const waiter of waiting) waiter.resolve(outcome);
  }

  private pump(): void {
    while (
      this.processor &&
      !this.closed &&
      this.running < this.options.concurrency &&
      this.queue.length > 0
    ) {
      const command = this.queue.shift()!;
      this.running += 1;
      void this.handle(this.processor, command).finally(() => {
        this.running -= 1;
        this.sent.delete(keyOf(command));
        this.pump();
      });
    }
  }

  private async handle(processor: EntryProcessor, command: CommandEnvelope): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [settled] = processor.processBatch([{ entryId: '', command, deliveries: attempt }]);
        const result = await settled;
        if (!result || 'error' in result) throw result?.error;
        const outcome = await this.outcomeOf(keyOf(command));
        if (outcome) this.settle(keyOf(command), outcome);
        return;
      } catch (error) {
        const lastError = describeError(error);
        this.options.logger.warn(
          `command handler failed (attempt ${attempt} of ${this.options.maxAttempts})`,
          { commandId: command.id, error: lastError },
        );
        if (attempt >= this.options.maxAttempts) {
          const at = new Date().toISOString();
          this.dead.unshift({ command, error: lastError, attempts: attempt, at });
          this.settle(keyOf(command), { kind: 'dead', attempts: attempt, lastError });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
