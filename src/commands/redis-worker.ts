import type { Keys } from '../events/keys.js';
import { OutcomeConfirmer, type ReplicaWait } from '../events/outcome-confirmer.js';
import { type ReadLoop, readLoop } from '../events/read-loop.js';
import { dedicated, type RedisClient } from '../events/redis-connection.js';
import type { Logger } from '../log.js';
import { endEntry, noteEntry, traceEntries } from '../tracing/entries.js';
import type {
  CommandEnvelope,
  EntryProcessor,
  EntryResult,
  EntryToProcess,
  Worker,
} from './command-bus.js';
import { CommandGroup, type Entry } from './command-group.js';
import { decodeEntry } from './entries.js';
import type { FaultSwitch } from './fault.js';
import { describeError } from './runtime.js';
import type { SharedSlots } from './shared-slots.js';

const BLOCK_MS = 1000;
/** The block of a read while another worker waits for a shared slot (they take turns). */
const SHORT_BLOCK_MS = 100;
const TRIM_EVERY_MS = 5000;

/** Settings of a command worker (SPEC.md §2 names in comments). */
export interface WorkerOptions {
  readonly group: string;
  /** This instance's consumer name: its SERVER_ID. */
  readonly consumer: string;
  /** Entries being handled at once; the worker reads no more than its free slots. */
  readonly concurrency: number;
  /** Most entries read (and committed) together (COMMAND_BATCH_MAX; jobs: 1). */
  readonly batchMax: number;
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
  /** Slots shared with other workers of the instance (deployment jobs of every partition). */
  readonly slots?: SharedSlots;
  /** REDIS_WAIT_REPLICAS > 0: dead letters are answered only once WAIT saw the replicas. */
  readonly replicaWait?: ReplicaWait;
  /**
   * STORE=eventstoredb: before a batch is decided, entries another instance took over meanwhile
   * (this one paused past COMMAND_CLAIM_IDLE_MS) are left to it. The Redis store needs no such
   * check: its commit script refuses a key already used; EventStoreDB deduplicates only at the
   * same expected version, and a zombie that decides after the new owner appended would decide
   * on a stream that already holds its command.
   */
  readonly ownedBeforeCommit?: boolean;
}

/** Counters a worker keeps (logged, and shown by system.status and /metrics). */
export interface WorkerStats {
  handled: number;
  retried: number;
  dead: number;
  reclaimed: number;
  redelivered: number;
}

interface InFlight {
  commandId: string;
  readonly startedAt: number;
  /** Not renewed (the test-only stall: a paused process renews nothing). */
  frozen: boolean;
}

/** A stand-in for an entry that cannot be decoded, so it can be dead-lettered. */
function undecodable(entryId: string): CommandEnvelope {
  return {
    id: `undecodable-${entryId}`,
    type: 'unknown',
    data: null,
    metadata: { commandId: '', userId: '', correlationId: '', timestamp: '' },
  };
}

/**
 * The consumer-group worker loop of DESIGN.md §2 (G2) and §7: reads only what it is about to
 * handle, renews its in-progress entries with an ownership-checked script until their deadline,
 * reclaims others' stale entries, retries transient failures with backoff, records answers,
 * dead-letters after COMMAND_MAX_ATTEMPTS runs, and trims the stream with MINID. The Redis side
 * of each step is in `CommandGroup`; this class holds the policy.
 */
export class RedisCommandWorker implements Worker {
  readonly stats: WorkerStats = {
    handled: 0,
    retried: 0,
    dead: 0,
    reclaimed: 0,
    redelivered: 0,
  };
  private readonly reader: RedisClient;
  private readonly group: CommandGroup;
  private readonly inFlight = new Map<string, InFlight>();
  private closing: Promise<void> | undefined;
  private loop: ReadLoop | undefined;
  private grouped = false;
  /** Batches frozen by the test-only stall fault right now. */
  private stalling = 0;
  private slotFreed: () => void = () => {};
  private leaveSlots: () => void = () => {};
  /** Shared slots reserved by the current read, given back once its entries are in flight. */
  private held = 0;
  private timers: NodeJS.Timeout[] = [];
  private claimCursor = '0-0'; // XPENDING scan position, so skipped entries do not hide later ones
  private nextReclaimAt = 0;

  constructor(
    redis: RedisClient,
    keys: Keys,
    private readonly processor: EntryProcessor,
    private readonly options: WorkerOptions,
  ) {
    const { replicaWait } = options;
    const confirmer = replicaWait && new OutcomeConfirmer(redis, keys, replicaWait);
    this.group = new CommandGroup(redis, keys, options.group, options.consumer, confirmer);
    this.reader = dedicated(redis, { blocking: true });
    this.reader.on('error', () => {}); // the loop reports what fails
    if (options.slots) {
      this.leaveSlots = options.slots.join({
        busy: () => this.inFlight.size,
        wake: () => this.slotFreed(),
      });
    }
  }

  /** Slots this worker may fill now: its own free ones, within the shared ones if any. */
  private free(): number {
    const own = this.options.concurrency - this.inFlight.size;
    return this.options.slots ? Math.min(own, this.options.slots.free) : own;
  }

  /**
   * Starts the loop, which first creates the group at 0 (so commands sent before any worker ran
   * are handled). Returns at once: with Redis unreachable the loop keeps retrying.
   */
  async start(): Promise<void> {
    this.loop = readLoop<Entry>({
      what: 'reading commands',
      logger: this.options.logger,
      read: () => this.readBatch(),
      handle: (entries) => {
        this.startBatch(entries.map((entry) => [entry, 1] as const));
        this.releaseHeld();
      },
      interrupt: () => {
        this.reader.disconnect();
        this.slotFreed();
      },
      onReadError: (error) => {
        if (String(error).includes('NOGROUP')) this.grouped = false; // the stream was deleted
      },
    });
    const renewEvery = Math.max(Math.floor(this.options.claimIdleMs / 3), 50);
    this.timers.push(setInterval(() => void this.renew(), renewEvery));
    this.timers.push(
      setInterval(
        () => void this.quietly('trimming the command stream', () => this.group.trim()),
        TRIM_EVERY_MS,
      ),
    );
  }

  /**
   * Stops reading, waits up to `graceMs` for in-flight handlers, releases the rest at once; a
   * second call waits for the first.
   */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= this.closeNow(graceMs);
    return this.closing;
  }

  private async closeNow(graceMs: number): Promise<void> {
    await this.loop?.close();
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await sleep(20);
    for (const t of this.timers) clearInterval(t);
    const held = [...this.inFlight.keys()];
    await this.quietly('releasing in-flight commands', () =>
      this.group.release(held, this.options.claimIdleMs * 10),
    );
    await this.quietly('removing this consumer from the group', () =>
      this.group.deleteConsumerIfIdle(),
    );
    this.leaveSlots();
  }

  /**
   * The next entries to handle: none while every slot is busy (it waits for one to free up),
   * else after creating the group (once) and reclaiming stale entries, at most the free slots.
   */
  private async readBatch(): Promise<readonly Entry[]> {
    if (this.grouped && this.free() <= 0) {
      const done = this.options.slots?.wait(); // counted: the readers then take short turns
      await new Promise<void>((resolve) => {
        this.slotFreed = resolve;
      }).finally(done);
      return [];
    }
    if (!this.grouped) {
      await this.group.ensure();
      this.grouped = true;
    }
    if (Date.now() >= this.nextReclaimAt) {
      await this.reclaim(this.free());
    }
    const room = Math.min(this.free(), this.options.batchMax);
    if (room <= 0) return []; // COUNT 0 would mean no limit
    const { slots } = this.options;
    if (!slots) return this.group.read(this.reader, room, BLOCK_MS);
    return this.readReserved(slots, room);
  }

  /** Reads into shared slots reserved first (see SharedSlots); waits when none is free. */
  private async readReserved(slots: SharedSlots, room: number): Promise<readonly Entry[]> {
    this.held = slots.reserve(room);
    if (this.held === 0) {
      const done = slots.wait();
      await new Promise<void>((resolve) => {
        this.slotFreed = resolve;
      }).finally(done);
      return [];
    }
    try {
      const block = slots.contended ? SHORT_BLOCK_MS : BLOCK_MS;
      const entries = await this.group.read(this.reader, this.held, block);
      // what the read did not fill goes back now; the rest once its entries are in flight
      slots.unreserve(this.held - entries.length);
      this.held = entries.length;
      // an empty turn while another worker waits: let it reserve first
      if (entries.length === 0 && slots.contended) await sleep(0);
      return entries;
    } catch (error) {
      this.releaseHeld();
      throw error;
    }
  }

  private releaseHeld(): void {
    const held = this.held;
    this.held = 0;
    this.options.slots?.unreserve(held);
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
    const pending = await this.group.stale(idle, this.claimCursor, free * 4);
    this.claimCursor = pending.length < free * 4 ? '0-0' : pending.at(-1)![0];
    const mine = (id: string, owner: string) =>
      owner === this.options.consumer && this.inFlight.has(id);
    const candidates = pending
      .filter(([id, owner, idleMs]) => !mine(id, owner) || idleMs >= 3 * idle)
      .slice(0, free);
    if (candidates.length === 0) return;
    const deliveries = new Map(candidates.map(([id, , , count]) => [id, count + 1]));
    const entries = await this.group.claim(
      idle,
      candidates.map(([id]) => id),
    );
    if (entries.length === 0) return;
    this.stats.reclaimed += entries.length;
    this.options.logger.info(`reclaimed ${entries.length} stale commands`, {
      reclaimed: entries.length,
    });
    // a hung run of our own is abandoned; the new run counts as the next attempt
    for (const [entryId] of entries) this.inFlight.delete(entryId);
    const reclaimed = entries.map((entry) => [entry, deliveries.get(entry[0]) ?? 1] as const);
    this.startBatch(reclaimed, true);
  }

  /**
   * Starts handling entries read together as one batch: an undecodable entry, or one delivered
   * more often than COMMAND_MAX_ATTEMPTS (its handler never finished), is dead-lettered; the rest
   * are committed together.
   */
  private startBatch(entries: readonly (readonly [Entry, number])[], reclaimed = false): void {
    const batch: EntryToProcess[] = [];
    const runs: InFlight[] = [];
    for (const [[entryId, fields], deliveries] of entries) {
      const run: InFlight = { commandId: '', startedAt: Date.now(), frozen: false };
      this.inFlight.set(entryId, run);
      let command: CommandEnvelope;
      try {
        command = decodeEntry(fields);
      } catch (error) {
        const reason = `undecodable command entry: ${String(error)}`;
        this.track(entryId, run, this.deadLetter(entryId, undecodable(entryId), 0, reason));
        continue;
      }
      run.commandId = command.id;
      if (deliveries > this.options.maxAttempts) {
        const reason = 'its handler never finished (the instance died or hung each time)';
        this.track(entryId, run, this.deadLetter(entryId, command, deliveries - 1, reason));
        continue;
      }
      batch.push({ entryId, command, deliveries });
      runs.push(run);
    }
    if (batch.length === 0) return;
    void this.process(batch, runs, reclaimed);
  }

  /** Frees the entry's slot once `work` is done (logging what it could not do). */
  private track(entryId: string, run: InFlight, work: Promise<void>): void {
    void work
      .catch((error) => {
        this.options.logger.error('command handling failed unexpectedly; it will be reclaimed', {
          commandId: run.commandId,
          error: describeError(error),
        });
      })
      .finally(() => {
        if (this.inFlight.get(entryId) === run) this.inFlight.delete(entryId);
        if (this.options.slots) this.options.slots.freed();
        else this.slotFreed();
      });
  }

  /**
   * Commits a batch (with the fault points of the test-only switch before the commit); each
   * entry's slot frees as soon as that entry is done.
   */
  private async process(
    entries: readonly EntryToProcess[],
    runs: readonly InFlight[],
    reclaimed: boolean,
  ) {
    const batch = traceEntries(entries, this.options.group, reclaimed);
    const { fault } = this.options;
    // a stalled (paused) process does not crash meanwhile: its zombie commit must come
    if (this.stalling === 0 && fault.hits('exit-before-commit')) {
      fault.exit('exit-before-commit', { commands: batch.map((e) => e.command.id) });
    }
    if (fault.hits('stall-before-commit')) {
      for (const run of runs) run.frozen = true; // no renewals: others reclaim them
      this.options.logger.warn('fault: stall-before-commit', {
        fault: 'stall-before-commit',
        commands: batch.length,
      });
      this.stalling += 1;
      await sleep(this.options.claimIdleMs * 3).finally(() => {
        this.stalling -= 1;
      });
    }
    const lost = this.options.ownedBeforeCommit
      ? await this.takenOver(batch, runs)
      : new Set<string>();
    for (const entry of batch.filter((e) => lost.has(e.entryId))) {
      const run = runs[batch.indexOf(entry)]!;
      this.track(
        entry.entryId,
        run,
        Promise.resolve().finally(() => endEntry(entry)),
      );
    }
    const owned = lost.size === 0 ? batch : batch.filter((e) => !lost.has(e.entryId));
    const ownedRuns = owned.map((e) => runs[batch.indexOf(e)]!);
    const results = this.processBatch(owned);
    owned.forEach((entry, i) => {
      this.track(
        entry.entryId,
        ownedRuns[i]!,
        results[i]!.then((r) => this.settle(entry, r)).finally(() => endEntry(entry)),
      );
    });
  }

  /**
   * The entries of `batch` this run no longer owns — another consumer took them over, or already
   * finished and acknowledged them, or this instance reclaimed its own stalled run of them (a new
   * run has them now) — logged and left alone.
   */
  private async takenOver(
    batch: readonly EntryToProcess[],
    runs: readonly InFlight[],
  ): Promise<Set<string>> {
    const ids = batch.map((e) => e.entryId);
    // unanswered (Redis away): decide as before; the commit then fails and is retried
    const owned = await this.group.owned(ids).catch(() => new Set(ids));
    const current = (id: string, i: number) => this.inFlight.get(id) === runs[i];
    const lost = new Set(ids.filter((id, i) => !owned.has(id) || !current(id, i)));
    for (const entry of batch.filter((e) => lost.has(e.entryId))) {
      this.options.logger.info(
        'command taken over meanwhile (by another instance, or by a newer run on this one); left to it',
        {
          commandId: entry.command.id,
          takenOver: 1,
        },
      );
    }
    return lost;
  }

  private processBatch(batch: readonly EntryToProcess[]): readonly Promise<EntryResult>[] {
    try {
      return this.processor.processBatch(batch);
    } catch (error) {
      return batch.map(() => Promise.resolve({ error }));
    }
  }

  /** Counts a processed entry, acknowledges it if the processor did not, or retries it. */
  private async settle(entry: EntryToProcess, result: EntryResult): Promise<void> {
    if ('error' in result) {
      await this.retry(entry, result.error);
      return;
    }
    this.stats.handled += 1;
    if (result.duplicate) {
      this.stats.redelivered += 1;
      this.options.logger.info('command already handled; its redelivery was acknowledged', {
        commandId: entry.command.id,
        redelivered: 1,
        deliveries: entry.deliveries,
      });
    }
    if (!result.acknowledged) await this.group.ack(entry.entryId);
  }

  /**
   * Retries an entry whose processing failed (transient), with backoff, each run counted in its
   * delivery count; dead-letters it after COMMAND_MAX_ATTEMPTS runs. Stops when another instance
   * took it over meanwhile (it will finish it).
   */
  private async retry(entry: EntryToProcess, failure: unknown): Promise<void> {
    let error = failure;
    const log = this.options.logger.child({ commandId: entry.command.id });
    for (let attempt = entry.deliveries; ; ) {
      log.warn(`command handler failed (attempt ${attempt} of ${this.options.maxAttempts})`, {
        error: describeError(error),
      });
      const failed = { attempt, 'exception.message': describeError(error) };
      noteEntry(entry, attempt >= this.options.maxAttempts ? 'dead-lettered' : 'retry', failed);
      if (attempt >= this.options.maxAttempts) {
        await this.deadLetter(entry.entryId, entry.command, attempt, describeError(error));
        return;
      }
      await sleep(Math.min(100 * 2 ** attempt, 2000));
      attempt = await this.group.retry(entry.entryId);
      if (attempt === 0) return;
      this.stats.retried += 1;
      const [settled] = this.processBatch([{ ...entry, deliveries: attempt }]);
      const result = await settled;
      if (result && !('error' in result)) {
        await this.settle(entry, result);
        return;
      }
      error = result?.error;
    }
  }

  private async deadLetter(
    entryId: string,
    command: CommandEnvelope,
    attempts: number,
    lastError: string,
  ): Promise<void> {
    const outcome = { kind: 'dead', attempts, lastError } as const;
    if (await this.group.deadLetter(entryId, command, outcome, this.options.dedupTtlS)) {
      this.stats.dead += 1;
      this.options.logger.error('command dead-lettered', {
        commandId: command.id,
        attempts,
        lastError,
        dead: 1,
      });
      await this.processor.deadLettered?.(command, attempts, lastError);
    }
  }

  /** Resets the idle time of entries still being handled and within their deadline. */
  private async renew(): Promise<void> {
    const now = Date.now();
    const ids = [...this.inFlight]
      .filter(([, f]) => !f.frozen && now - f.startedAt < this.options.handlerDeadlineMs)
      .map(([id]) => id);
    if (ids.length === 0) return;
    await this.quietly('renewing in-progress commands', async () => {
      const lost = await this.group.renew(ids);
      if (lost.length > 0) {
        this.options.logger.warn(
          `${lost.length} in-progress commands were taken over by another instance`,
          { lost },
        );
      }
    });
  }

  /** Runs a background step; a failure is logged and the next round tries again. */
  private async quietly(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.options.logger.warn(`${what} failed`, { error: String(error) });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
