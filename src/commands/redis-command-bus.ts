import { NotFoundError, OverloadedError, ReplicaShortfallError } from '../errors.js';
import { closeOnce } from '../events/close-once.js';
import { CommandRecords, SENT } from '../events/command-records.js';
import type { EventStore } from '../events/event-store.js';
import { COMMAND_GROUP, type Keys } from '../events/keys.js';
import { LuaScript, type ReplyValue, replyNumber, replyString } from '../events/lua-script.js';
import type { Outcome } from '../events/outcome.js';
import { OutcomeConfirmer } from '../events/outcome-confirmer.js';
import { assertIdempotencyKey, DEFAULT_STORE_SETTINGS } from '../events/prepare-append.js';
import type { RedisClient } from '../events/redis-connection.js';
import { fieldMap } from '../events/redis-entries.js';
import { RedisEventStore } from '../events/redis-event-store.js';
import { TickBatch } from '../events/tick-batch.js';
import { isUnconfirmed } from '../events/unconfirmed.js';
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
} from './command-bus.js';
import { decodeEntry, entryValues } from './entries.js';
import { RedisCommandWorker, type WorkerOptions } from './redis-worker.js';
import { ReplyWaiter } from './reply-waiter.js';

const enqueueScript = LuaScript.load(new URL('./lua/enqueue-commands-n.lua', import.meta.url));
const redriveScript = LuaScript.load(new URL('./lua/redrive-command-5.lua', import.meta.url));

/** Most commands one enqueue script call takes (more wait for the next call). */
const MAX_ENQUEUE_PER_CALL = 256;

/** The consumer group every instance's worker joins. */
export { COMMAND_GROUP } from '../events/keys.js';

/** Settings of the Redis command bus. */
export interface RedisCommandBusOptions
  extends Omit<WorkerOptions, 'group' | 'consumer' | 'batchMax'> {
  /** COMMAND_BATCH_MAX: most commands read and committed together (default 64). */
  readonly batchMax?: number;
  readonly serverId: string;
  /** COMMAND_TIMEOUT_MS: default wait of `send`. */
  readonly timeoutMs: number;
  /** COMMAND_BACKLOG_MAX */
  readonly backlogMax: number;
  /** SHUTDOWN_GRACE_MS: how long `close` lets in-flight handlers finish. */
  readonly graceMs: number;
  /**
   * The partition's event store, whose `readAll` finds a handled command's events again (in Redis
   * or, once trimmed, in the archive); default: a store on the same keys reading Redis alone.
   */
  readonly events?: Pick<EventStore, 'readAll'>;
}

/** The Redis `CommandBus`: stream `{sc}:cmd`, consumer group `handlers`, one consumer per instance. */
export class RedisCommandBus implements CommandBus {
  private readonly replies: ReplyWaiter;
  /** Under REDIS_WAIT_REPLICAS > 0: confirms an outcome found unconfirmed before answering it. */
  private readonly confirmer: OutcomeConfirmer | undefined;
  private readonly workers = new Set<RedisCommandWorker>();
  /** Reads command records back into outcomes (by reference to their events). */
  private readonly records: CommandRecords;
  /** The commands `send` is given in one turn, enqueued by one script call. */
  private readonly enqueues = new TickBatch(
    (commands: readonly CommandEnvelope[]) => this.enqueue(commands),
    MAX_ENQUEUE_PER_CALL,
  );

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: RedisCommandBusOptions,
  ) {
    const { events } = options;
    const stores = new Map<number | undefined, RedisEventStore>();
    const storeOf = (partition: number | undefined) => {
      let store = stores.get(partition);
      if (!store) {
        const settings = { ...DEFAULT_STORE_SETTINGS, serverId: options.serverId, partition };
        store = new RedisEventStore(redis, keys, settings);
        stores.set(partition, store);
      }
      return store;
    };
    this.records = new CommandRecords((p) => events ?? storeOf(p));
    const wait = options.replicaWait;
    this.confirmer = wait && new OutcomeConfirmer(redis, keys, wait);
    this.replies = new ReplyWaiter(
      redis,
      keys,
      options.serverId,
      options.logger,
      this.records,
      this.confirmer,
    );
  }

  /** Subscribes to this instance's reply channel; call before the first `send`. */
  async start(): Promise<void> {
    await this.replies.start();
  }

  async send(command: CommandEnvelope, options: SendOptions = {}): Promise<SendResult> {
    const key = keyOf(command);
    assertIdempotencyKey(key);
    const wait = options.wait ?? true;
    const envelope: CommandEnvelope = {
      ...command,
      metadata: { ...command.metadata, replyTo: this.replies.channel },
    };
    const waiting = wait
      ? this.replies.wait(key, command.id, options.timeoutMs ?? this.options.timeoutMs)
      : undefined;
    let recorded: string | undefined;
    try {
      recorded = this.enqueued(await this.enqueues.add(envelope));
    } catch (error) {
      waiting?.cancel();
      throw error;
    }
    if (recorded !== undefined) {
      waiting?.cancel();
      const outcome = await this.confirmed(key, recorded);
      if (!outcome.confirmed) {
        this.confirmer?.answeredShortfall(command.id, outcome.acked);
        throw new ReplicaShortfallError(
          command.id,
          this.confirmer?.wait.replicas ?? 0,
          outcome.acked,
        );
      }
      return { status: 'handled', outcome: outcome.outcome };
    }
    if (!waiting) return { status: 'queued' };
    return { status: 'handled', outcome: await waiting.outcome };
  }

  /**
   * A stored outcome as it may be answered: under REDIS_WAIT_REPLICAS one not yet confirmed is
   * confirmed first (a write on its node, then WAIT), or falls short.
   */
  private async confirmed(
    key: string,
    stored: string,
  ): Promise<{ confirmed: true; outcome: Outcome } | { confirmed: false; acked: number }> {
    if (!this.confirmer || !isUnconfirmed(stored)) {
      return { confirmed: true, outcome: await this.outcomeOf(stored) };
    }
    const confirmation = await this.confirmer.confirm([key]);
    if (!confirmation.confirmed) return confirmation;
    const json = confirmation.outcomes.get(key);
    return { confirmed: true, outcome: await this.outcomeOf(json ?? stored) };
  }

  /** The outcome of a handled command's record. */
  private async outcomeOf(stored: string): Promise<Outcome> {
    const outcome = await this.records.outcomeOf(stored);
    if (!outcome) throw new Error('a command record said handled, then only sent');
    return outcome;
  }

  /** One enqueue-commands-n call for the commands given to `send` in one turn; a result each. */
  private async enqueue(commands: readonly CommandEnvelope[]): Promise<readonly ReplyValue[]> {
    const keys = [this.keys.commands, this.keys.commandBacklog];
    const args: (string | number)[] = [
      this.options.dedupTtlS,
      this.options.backlogMax,
      COMMAND_GROUP,
      commands.length,
    ];
    for (const command of commands) {
      keys.push(this.keys.done(keyOf(command)));
      args.push(...entryValues(command));
    }
    const reply = await enqueueScript.run(this.redis, keys, args);
    return commands.map((_, i) => reply.values[i] ?? null);
  }

  /**
   * One command's result of enqueue-commands-n: its outcome when it was handled before; nothing
   * when it is now (or was already) waiting in the stream; `OverloadedError` past
   * COMMAND_BACKLOG_MAX.
   */
  private enqueued(result: ReplyValue): string | undefined {
    if (!Array.isArray(result)) throw new Error(`enqueue-commands-n gave no result for a command`);
    const [code, ...values] = result;
    switch (code) {
      case 1:
        return undefined;
      case 0:
        return values.length > 0 ? replyString(values, 0) : undefined;
      case -2: {
        const backlog = replyNumber(values, 1);
        throw new OverloadedError(
          `${backlog} commands are waiting (COMMAND_BACKLOG_MAX ${this.options.backlogMax}); retry later`,
          1000,
        );
      }
      default:
        throw new Error(`enqueue-commands-n replied ${JSON.stringify(result)} for a command`);
    }
  }

  async serve(processor: EntryProcessor): Promise<RedisCommandWorker> {
    const worker = new RedisCommandWorker(this.redis, this.keys, processor, {
      ...this.options,
      group: COMMAND_GROUP,
      consumer: this.options.serverId,
      batchMax: this.options.batchMax ?? 64,
    });
    await worker.start();
    this.workers.add(worker);
    return worker;
  }

  async status(userId: string, commandId: string): Promise<CommandStatus> {
    const key = commandKey(userId, commandId);
    assertIdempotencyKey(key);
    const done = await this.redis.get(this.keys.done(key));
    if (done === null) return { status: 'unknown' };
    if (done !== SENT) {
      const confirmation = await this.confirmed(key, done);
      if (!confirmation.confirmed) return { status: 'pending' }; // not yet durable: ask again
      const { outcome } = confirmation;
      return { status: outcome.kind === 'dead' ? 'dead' : 'handled', outcome };
    }
    return { status: 'pending' };
  }

  async deadLetters(limit = 100): Promise<readonly DeadLetter[]> {
    const entries = (await this.redis.xrevrange(
      this.keys.deadCommands,
      '+',
      '-',
      'COUNT',
      limit,
    )) as [string, string[]][];
    return entries.map(([entryId, fields]) => {
      const f = fieldMap(fields);
      return {
        command: decodeEntry(fields),
        error: f.error ?? '',
        attempts: Number(f.attempts ?? 0),
        at: new Date(Number(entryId.split('-')[0])).toISOString(),
      };
    });
  }

  async redrive(userId: string, commandId: string): Promise<void> {
    const key = commandKey(userId, commandId);
    assertIdempotencyKey(key);
    const reply = await redriveScript.run(
      this.redis,
      [
        this.keys.deadCommands,
        this.keys.commands,
        this.keys.done(key),
        this.keys.done(key), // the record, sent again
        this.keys.commandBacklog,
      ],
      [commandId, this.options.dedupTtlS, userId],
    );
    if (reply.status !== 'ok') throw new NotFoundError('dead command', commandId);
  }

  /** How many commands wait in the group (lag + pending) and how many are dead-lettered. */
  async backlog(): Promise<{ pending: number; lag: number; dead: number }> {
    const [groups, dead] = await Promise.all([
      this.redis.xinfo('GROUPS', this.keys.commands).catch(() => [] as unknown[]),
      this.redis.xlen(this.keys.deadCommands),
    ]);
    for (const g of groups as unknown[][]) {
      const info = fieldMap(g);
      if (info.name === COMMAND_GROUP)
        return { pending: Number(info.pending ?? 0), lag: Number(info.lag ?? 0), dead };
    }
    return { pending: 0, lag: 0, dead };
  }

  /** Stops the workers (finishing or releasing in-flight commands), then stops waiting for replies. */
  readonly close = closeOnce(async (): Promise<void> => {
    await Promise.all([...this.workers].map((w) => w.close(this.options.graceMs)));
    await this.replies.close();
  });
}
