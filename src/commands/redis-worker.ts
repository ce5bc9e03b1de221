import type { Redis } from 'ioredis';
import type { Outcome } from '../events/event-store.js';
import type { Keys } from '../events/keys.js';
import { LuaScript } from '../events/lua-script.js';
import { fieldMap } from '../events/redis-entries.js';
import type { Logger } from '../log.js';
import { describeError, isAnswer, outcomeErrorOf } from './answers.js';
import type { CommandEnvelope, CommandHandler, Worker } from './command-bus.js';
import type { FaultSwitch } from './fault.js';

const renewScript = LuaScript.load(new URL('./lua/renew-commands-1.lua', import.meta.url));
const retryScript = LuaScript.load(new URL('./lua/retry-command-1.lua', import.meta.url));
const deadLetterScript = LuaScript.load(new URL('./lua/dead-letter-3.lua', import.meta.url));
const trimScript = LuaScript.load(new URL('./lua/trim-commands-1.lua', import.meta.url));

const BLOCK_MS = 1000;
const TRIM_EVERY_MS = 5000;

/** Settings of a command worker (SPEC.md §2 names in comments). */
export interface WorkerOptions {
  readonly group: string;
  /** This instance's consumer name: its SERVER_ID. */
  readonly consumer: string;
  /** Handlers running at once; the worker reads no more than its free slots. */
  readonly concurrency: number;
  /** COMMAND_CLAIM_IDLE_MS */
  readonly claimIdleMs: number;
  /** COMMAND_HANDLER_DEADLINE_MS */
  readonly handlerDeadlineMs: number;
  /** COMMAND_MAX_ATTEMPTS */
  readonly maxAttempts: number;
  /** COMMAND_DEDUP_TTL_S */
  readonly dedupTtlS: number;
  readonly fault: FaultSwitch;
  readonly logger: Logger;
  /** Reads a command's recorded outcome (the event store's `getOutcome`). */
  readonly outcomeOf: (commandId: string) => Promise<Outcome | undefined>;
  /** Records an answer (the event store's `recordOutcome`). */
  readonly recordAnswer: (
    command: CommandEnvelope,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
  ) => Promise<void>;
}

/** Counters a worker keeps (logged, and shown by system.status and /metrics). */
export interface WorkerStats {
  handled: number;
  answeredWithError: number;
  retried: number;
  dead: number;
  reclaimed: number;
  redelivered: number;
}

interface InFlight {
  readonly commandId: string;
  readonly startedAt: number;
}

type Entry = [id: string, fields: string[]];

/** Decodes a command stream entry (fields `id type data meta`). */
export function decodeCommand(fields: readonly string[]): CommandEnvelope {
  const f = fieldMap(fields);
  return {
    id: f.id ?? '',
    type: f.type ?? '',
    data: JSON.parse(f.data ?? 'null'),
    metadata: JSON.parse(f.meta ?? '{}'),
  };
}

/**
 * The consumer-group worker loop of DESIGN.md §2 (G2) and §7: reads only what it is about to
 * handle, renews its in-progress entries with an ownership-checked script until their deadline,
 * reclaims others' stale entries (XPENDING IDLE + XCLAIM), retries transient failures with backoff, records
 * answers, dead-letters after COMMAND_MAX_ATTEMPTS runs, and trims the stream with MINID.
 */
export class RedisCommandWorker implements Worker {
  readonly stats: WorkerStats = {
    handled: 0,
    answeredWithError: 0,
    retried: 0,
    dead: 0,
    reclaimed: 0,
    redelivered: 0,
  };
  private readonly reader: Redis;
  private readonly inFlight = new Map<string, InFlight>();
  private closing = false;
  private slotFreed: () => void = () => {};
  private loopDone: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private claimCursor = '0-0'; // XPENDING scan position, so skipped entries do not hide later ones
  private nextReclaimAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly handlers: Readonly<Record<string, CommandHandler>>,
    private readonly options: WorkerOptions,
  ) {
    this.reader = redis.duplicate({ maxRetriesPerRequest: null });
    this.reader.on('error', () => {}); // the loop reports what fails
  }

  /**
   * Starts the loop, which first creates the group at 0 (so commands sent before any worker ran
   * are handled). Returns at once: with Redis unreachable the loop keeps retrying.
   */
  async start(): Promise<void> {
    this.loopDone = this.loop();
    const renewEvery = Math.max(Math.floor(this.options.claimIdleMs / 3), 50);
    this.timers.push(setInterval(() => void this.renew(), renewEvery));
    this.timers.push(setInterval(() => void this.trim(), TRIM_EVERY_MS));
  }

  /** Stops reading, waits up to `graceMs` for in-flight handlers, releases the rest at once. */
  async close(graceMs = 10_000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.reader.disconnect();
    this.slotFreed();
    await this.loopDone;
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await sleep(20);
    for (const t of this.timers) clearInterval(t);
    await this.release([...this.inFlight.keys()]);
    await this.deleteConsumerIfIdle();
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.commands, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  private async loop(): Promise<void> {
    let backoff = 100;
    let grouped = false;
    while (!this.closing) {
      if (!grouped) {
        try {
          await this.ensureGroup();
          grouped = true;
        } catch (error) {
          this.options.logger.warn('cannot create the command group yet; retrying', {
            error: String(error),
            retryInMs: backoff,
          });
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 5000);
          continue;
        }
      }
      const free = this.options.concurrency - this.inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.slotFreed = resolve;
        });
        continue;
      }
      try {
        if (Date.now() >= this.nextReclaimAt) await this.reclaim(free);
        if (this.inFlight.size >= this.options.concurrency) continue; // COUNT 0 would mean no limit
        const reply = (await this.reader.xreadgroup(
          'GROUP',
          this.options.group,
          this.options.consumer,
          'COUNT',
          this.options.concurrency - this.inFlight.size,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.keys.commands,
          '>',
        )) as [string, Entry[]][] | null;
        backoff = 100;
        for (const [entryId, fields] of reply?.[0]?.[1] ?? []) this.start1(entryId, fields, 1);
      } catch (error) {
        if (this.closing) break;
        if (String(error).includes('NOGROUP')) grouped = false; // the stream was deleted: create it again
        this.options.logger.warn('reading commands failed; retrying', {
          error: String(error),
          retryInMs: backoff,
        });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  /**
   * Reclaims entries idle past COMMAND_CLAIM_IDLE_MS: their owner died, hung past its deadline, or
   * was shut down. Found with `XPENDING IDLE` (which names each owner and its delivery count) and
   * taken with `XCLAIM <min-idle>`, which skips any entry someone renewed or claimed meanwhile.
   * `XAUTOCLAIM` cannot tell whose an entry is: this instance would take back its own hung
   * handlers, which other instances should get first. Its own hung ones it takes only when nobody
   * else has for three claim periods, so a lone instance still dead-letters them in the end.
   */
  private async reclaim(free: number): Promise<void> {
    const idle = this.options.claimIdleMs;
    this.nextReclaimAt = Date.now() + Math.max(Math.floor(idle / 2), 50);
    const pending = (await this.redis.xpending(
      this.keys.commands,
      this.options.group,
      'IDLE',
      idle,
      `(${this.claimCursor}`,
      '+',
      free * 4,
    )) as [id: string, owner: string, idleMs: number, deliveries: number][];
    this.claimCursor = pending.length < free * 4 ? '0-0' : pending.at(-1)![0];
    const mine = (id: string, owner: string) =>
      owner === this.options.consumer && this.inFlight.has(id);
    const candidates = pending
      .filter(([id, owner, idleMs]) => !mine(id, owner) || idleMs >= 3 * idle)
      .slice(0, free);
    if (candidates.length === 0) return;
    const deliveries = new Map(candidates.map(([id, , , count]) => [id, count + 1]));
    const claimed = (await this.redis.xclaim(
      this.keys.commands,
      this.options.group,
      this.options.consumer,
      idle,
      ...candidates.map(([id]) => id),
    )) as (Entry | null)[];
    const entries = claimed.filter((e): e is Entry => Array.isArray(e) && Array.isArray(e[1]));
    if (entries.length === 0) return;
    this.stats.reclaimed += entries.length;
    this.options.logger.info(`reclaimed ${entries.length} stale commands`, {
      reclaimed: entries.length,
    });
    for (const [entryId, fields] of entries) {
      this.inFlight.delete(entryId); // a hung run of our own is abandoned; the new run counts as the next attempt
      this.start1(entryId, fields, deliveries.get(entryId) ?? 1);
    }
  }

  private start1(entryId: string, fields: string[], deliveries: number): void {
    let command: CommandEnvelope;
    try {
      command = decodeCommand(fields);
    } catch (error) {
      this.options.logger.error('undecodable command entry; dead-lettering it', {
        entryId,
        error: String(error),
      });
      command = {
        id: `undecodable-${entryId}`,
        type: 'unknown',
        data: null,
        metadata: { commandId: '', userId: '', correlationId: '', timestamp: '' },
      };
    }
    const run: InFlight = { commandId: command.id, startedAt: Date.now() };
    this.inFlight.set(entryId, run);
    void this.handle(entryId, command, deliveries)
      .catch((error) => {
        this.options.logger.error('command handling failed unexpectedly; it will be reclaimed', {
          commandId: command.id,
          error: describeError(error),
        });
      })
      .finally(() => {
        if (this.inFlight.get(entryId) === run) this.inFlight.delete(entryId);
        this.slotFreed();
      });
  }

  private async handle(
    entryId: string,
    command: CommandEnvelope,
    deliveries: number,
  ): Promise<void> {
    const log = this.options.logger.child({
      commandId: command.id,
      correlationId: command.metadata.correlationId,
    });
    // only a redelivery can have been handled already (a client repeat is never enqueued twice);
    // first deliveries rely on the append script's own check and save a round trip
    if (
      deliveries > 1 &&
      !this.options.fault.noDedup &&
      (await this.options.outcomeOf(command.id))
    ) {
      this.stats.redelivered += 1;
      log.info('command already handled; acknowledging the redelivery', {
        redelivered: 1,
        deliveries,
      });
      await this.republish(command);
      await this.ack(entryId);
      return;
    }
    let attempt = deliveries;
    if (attempt > this.options.maxAttempts) {
      await this.deadLetter(
        entryId,
        command,
        attempt - 1,
        'its handler never finished (the instance died or hung each time)',
      );
      return;
    }
    const handler = this.handlers[command.type];
    for (;;) {
      try {
        if (!handler) throw new Error(`no handler for command type ${command.type}`);
        await handler(command);
        this.stats.handled += 1;
        break;
      } catch (error) {
        if (isAnswer(error)) {
          await this.options.recordAnswer(command, {
            kind: 'rejected',
            error: outcomeErrorOf(error),
          });
          this.stats.answeredWithError += 1;
          break;
        }
        log.warn(`command handler failed (attempt ${attempt} of ${this.options.maxAttempts})`, {
          error: describeError(error),
        });
        if (attempt >= this.options.maxAttempts) {
          await this.deadLetter(entryId, command, attempt, describeError(error));
          return;
        }
        await sleep(Math.min(100 * 2 ** attempt, 2000));
        const next = Number(
          await retryScript.run(
            this.redis,
            [this.keys.commands],
            [this.options.group, this.options.consumer, entryId],
          ),
        );
        if (next === 0) return; // another instance took it over; it will finish it
        this.stats.retried += 1;
        attempt = next;
      }
    }
    this.options.fault.at('exit-after-append', { commandId: command.id });
    await this.ack(entryId);
  }

  private async ack(entryId: string): Promise<void> {
    await this.redis.xack(this.keys.commands, this.options.group, entryId);
  }

  /** Re-sends the reply of a command handled before, in case its first publish was lost. */
  private async republish(command: CommandEnvelope): Promise<void> {
    if (command.metadata.replyTo) await this.redis.publish(command.metadata.replyTo, command.id);
  }

  private async deadLetter(
    entryId: string,
    command: CommandEnvelope,
    attempts: number,
    lastError: string,
  ): Promise<void> {
    const outcome: Outcome = {
      kind: 'dead',
      attempts,
      error: {
        code: -32031,
        message: `command dead-lettered after ${attempts} attempts: ${lastError}`,
        data: { commandId: command.id, attempts, lastError },
      },
    };
    const moved = await deadLetterScript.run(
      this.redis,
      [this.keys.commands, this.keys.deadCommands, this.keys.done(command.id)],
      [
        this.options.group,
        entryId,
        command.id,
        command.type,
        JSON.stringify(command.data),
        JSON.stringify(command.metadata),
        lastError,
        attempts,
        JSON.stringify(outcome),
        this.options.dedupTtlS,
        command.metadata.replyTo ?? '',
      ],
    );
    if (moved === 1) {
      this.stats.dead += 1;
      this.options.logger.error('command dead-lettered', {
        commandId: command.id,
        attempts,
        lastError,
        dead: 1,
      });
    }
  }

  /** Resets the idle time of entries still being handled and within their deadline. */
  private async renew(): Promise<void> {
    const now = Date.now();
    const ids = [...this.inFlight]
      .filter(([, f]) => now - f.startedAt < this.options.handlerDeadlineMs)
      .map(([id]) => id);
    if (ids.length === 0) return;
    try {
      const lost = (await renewScript.run(
        this.redis,
        [this.keys.commands],
        [this.options.group, this.options.consumer, ...ids],
      )) as string[];
      if (lost.length > 0)
        this.options.logger.warn(
          `${lost.length} in-progress commands were taken over by another instance`,
          { lost },
        );
    } catch (error) {
      this.options.logger.warn('renewing in-progress commands failed', { error: String(error) });
    }
  }

  private async trim(): Promise<void> {
    try {
      await trimScript.run(this.redis, [this.keys.commands], [this.options.group]);
    } catch (error) {
      this.options.logger.warn('trimming the command stream failed', { error: String(error) });
    }
  }

  /** Makes entries immediately reclaimable by other instances (shutdown past the grace time). */
  private async release(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    const idle = String(this.options.claimIdleMs * 10);
    await this.redis
      .xclaim(
        this.keys.commands,
        this.options.group,
        this.options.consumer,
        0,
        ...entryIds,
        'IDLE',
        idle,
        'JUSTID',
      )
      .catch((error) =>
        this.options.logger.warn('releasing in-flight commands failed', { error: String(error) }),
      );
  }

  private async deleteConsumerIfIdle(): Promise<void> {
    try {
      const pending = (await this.redis.xpending(
        this.keys.commands,
        this.options.group,
        '-',
        '+',
        1,
        this.options.consumer,
      )) as unknown[];
      if (pending.length === 0)
        await this.redis.xgroup(
          'DELCONSUMER',
          this.keys.commands,
          this.options.group,
          this.options.consumer,
        );
    } catch (error) {
      this.options.logger.warn('removing this consumer from the group failed', {
        error: String(error),
      });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
