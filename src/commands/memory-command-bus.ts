import { CommandTimeoutError, NotFoundError, OverloadedError } from '../errors.js';
import type { Outcome } from '../events/event-store.js';
import type { MemoryEventStore } from '../events/memory-event-store.js';
import { assertIdempotencyKey } from '../events/prepare-append.js';
import type { Logger } from '../log.js';
import { describeError, isAnswer, outcomeErrorOf } from './answers.js';
import type {
  CommandBus,
  CommandEnvelope,
  CommandHandler,
  CommandStatus,
  DeadLetter,
  SendOptions,
  SendResult,
  Worker,
} from './command-bus.js';

/** Settings of the in-process bus (the same names as the Redis one). */
export interface MemoryCommandBusOptions {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly backlogMax: number;
  readonly concurrency: number;
  readonly logger: Logger;
}

const REPLY_CHANNEL = 'memory-bus-reply';

/**
 * In-process `CommandBus` with the Redis bus's semantics (enqueue once per id, one recorded outcome
 * per command, retries then dead letters), for `npm start` without Redis and for fast tests.
 */
export class MemoryCommandBus implements CommandBus {
  private readonly dead: DeadLetter[] = [];
  private readonly queue: CommandEnvelope[] = [];
  private readonly sent = new Set<string>();
  private readonly owners = new Map<string, string>();
  private handlers: Readonly<Record<string, CommandHandler>> | undefined;
  private running = 0;
  private closed = false;

  constructor(
    private readonly store: MemoryEventStore,
    private readonly options: MemoryCommandBusOptions,
  ) {}

  async send(command: CommandEnvelope, options: SendOptions = {}): Promise<SendResult> {
    assertIdempotencyKey(command.id);
    // listen first, then look: a reply emitted in between is not missed
    const waiting =
      (options.wait ?? true)
        ? this.waitFor(command.id, options.timeoutMs ?? this.options.timeoutMs)
        : undefined;
    waiting?.catch(() => {});
    const recorded = await this.store.getOutcome(command.id);
    if (recorded) {
      this.store.replies.emit(REPLY_CHANNEL, command.id);
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
      this.queue.push({ ...command, metadata: { ...command.metadata, replyTo: REPLY_CHANNEL } });
      this.pump();
    }
    if (!waiting) return { status: 'queued' };
    return { status: 'handled', outcome: await waiting };
  }

  async serve(handlers: Readonly<Record<string, CommandHandler>>): Promise<Worker> {
    this.handlers = handlers;
    this.pump();
    return { close: () => this.close() };
  }

  async status(commandId: string): Promise<CommandStatus> {
    assertIdempotencyKey(commandId);
    const outcome = await this.store.getOutcome(commandId);
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
    const outcome = await this.store.getOutcome(commandId);
    if (index < 0 || (outcome && outcome.kind !== 'dead'))
      throw new NotFoundError('dead command', commandId);
    const [dead] = this.dead.splice(index, 1);
    this.store.forget(commandId);
    this.sent.add(commandId);
    this.queue.push(dead!.command);
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.running > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private waitFor(commandId: string, timeoutMs: number): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const onReply = (key: string) => {
        if (key !== commandId) return;
        cleanup();
        void this.store
          .getOutcome(commandId)
          .then((o) => (o ? resolve(o) : reject(new CommandTimeoutError(commandId))));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new CommandTimeoutError(commandId));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.store.replies.off(REPLY_CHANNEL, onReply);
      };
      this.store.replies.on(REPLY_CHANNEL, onReply);
    });
  }

  private pump(): void {
    while (
      this.handlers &&
      !this.closed &&
      this.running < this.options.concurrency &&
      this.queue.length > 0
    ) {
      const command = this.queue.shift()!;
      this.running += 1;
      void this.handle(command).finally(() => {
        this.running -= 1;
        this.sent.delete(command.id);
        this.pump();
      });
    }
  }

  private async handle(command: CommandEnvelope): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const handler = this.handlers?.[command.type];
        if (!handler) throw new Error(`no handler for command type ${command.type}`);
        await handler(command);
        return;
      } catch (error) {
        if (isAnswer(error)) {
          await this.store.recordOutcome(
            command.id,
            { kind: 'rejected', error: outcomeErrorOf(error) },
            { replyChannel: REPLY_CHANNEL },
          );
          return;
        }
        const lastError = describeError(error);
        this.options.logger.warn(
          `command handler failed (attempt ${attempt} of ${this.options.maxAttempts})`,
          { commandId: command.id, error: lastError },
        );
        if (attempt >= this.options.maxAttempts) {
          this.dead.unshift({
            command,
            error: lastError,
            attempts: attempt,
            at: new Date().toISOString(),
          });
          const data = { commandId: command.id, attempts: attempt, lastError };
          await this.store.recordOutcome(
            command.id,
            {
              kind: 'dead',
              attempts: attempt,
              error: {
                code: -32031,
                message: `command dead-lettered after ${attempt} attempts: ${lastError}`,
                data,
              },
            },
            { replyChannel: REPLY_CHANNEL },
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }
}
