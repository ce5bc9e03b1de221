import { CommandTimeoutError, NotFoundError, OverloadedError } from '../errors.js';
import type { EventStore } from '../events/event-store.js';
import type { Outcome } from '../events/outcome.js';
import { assertIdempotencyKey } from '../events/prepare-append.js';
import type { Logger } from '../log.js';
import type {
  CommandBus,
  CommandEnvelope,
  CommandStatus,
  DeadLetter,
  EntryProcessor,
  SendOptions,
  SendResult,
  Worker,
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
  private readonly sent = new Set<string>();
  private readonly owners = new Map<string, string>();
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
    assertIdempotencyKey(command.id);
    // listen first, then look: an outcome recorded in between is not missed
    const waiting =
      (options.wait ?? true)
        ? this.waitFor(command.id, options.timeoutMs ?? this.options.timeoutMs)
        : undefined;
    waiting?.catch(() => {});
    const recorded = await this.outcomeOf(command.id);
    if (recorded) {
      this.settle(command.id, recorded);
      return { status: 'handled', outcome: recorded };
    }
    if (!this.sent.has(command.id)) {
      if (this.queue.length + this.running >= this.options.backlogMax) {
        throw new OverloadedError(
          `${this.queue.length} commands are waiting (COMMAND_BACKLOG_MAX); retry later`,
          1000,
        );
      }
      this.sent.add(command.id);
      this.owners.set(command.id, command.metadata.userId);
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

  async status(commandId: string): Promise<CommandStatus> {
    assertIdempotencyKey(commandId);
    const outcome = await this.outcomeOf(commandId);
    const owner = this.owners.get(commandId);
    const known = owner === undefined ? {} : { owner };
    if (outcome) return { status: outcome.kind === 'dead' ? 'dead' : 'handled', outcome, ...known };
    return this.sent.has(commandId) ? { status: 'pending', ...known } : { status: 'unknown' };
  }

  async deadLetters(limit = 100): Promise<readonly DeadLetter[]> {
    return this.dead.slice(0, limit);
  }

  async redrive(commandId: string): Promise<void> {
    assertIdempotencyKey(commandId);
    const index = this.dead.findIndex((d) => d.command.id === commandId);
    if (index < 0) throw new NotFoundError('dead command', commandId);
    const [dead] = this.dead.splice(index, 1);
    this.sent.add(commandId);
    this.queue.push(dead!.command);
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  /** The recorded outcome: dead letters are kept here, everything else by the event store. */
  private async outcomeOf(commandId: string): Promise<Outcome | undefined> {
    const dead = this.dead.find((d) => d.command.id === commandId);
    if (dead) return { kind: 'dead', attempts: dead.attempts, lastError: dead.error };
    return this.store.getOutcome(commandId);
  }

  private waitFor(commandId: string, timeoutMs: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(commandId, waiter);
        reject(new CommandTimeoutError(commandId));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        },
        reject,
      };
      this.waiters.set(commandId, [...(this.waiters.get(commandId) ?? []), waiter]);
    });
  }

  private drop(commandId: string, waiter: Waiter): void {
    const rest = (this.waiters.get(commandId) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.waiters.set(commandId, rest);
    else this.waiters.delete(commandId);
  }

  /** Answers everyone waiting for `commandId`. */
  private settle(commandId: string, outcome: Outcome): void {
    const waiting = this.waiters.get(commandId) ?? [];
    this.waiters.delete(commandId);
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
        this.sent.delete(command.id);
        this.pump();
      });
    }
  }

  private async handle(processor: EntryProcessor, command: CommandEnvelope): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await processor.process(command);
        const outcome = await this.outcomeOf(command.id);
        if (outcome) this.settle(command.id, outcome);
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
          this.settle(command.id, { kind: 'dead', attempts: attempt, lastError });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
