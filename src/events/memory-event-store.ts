import { EventEmitter } from 'node:events';
import { ConcurrencyError, ValidationError } from '../errors.js';
import { eventBytes, fitting } from './byte-budget.js';
import type { NewEvent, RecordedEvent } from './envelope.js';
import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type LogPage,
  type Outcome,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordOutcomeOptions,
  START,
  type StreamPage,
  type SubscribeAllOptions,
  type Subscription,
} from './event-store.js';
import { MemoryJobs } from './memory-jobs.js';
import { MemoryNotifications } from './memory-notifications.js';
import {
  assertIdempotencyKey,
  assertStreamId,
  fromVersionOf,
  prepareAppend,
  queueFull,
  type StoreSettings,
} from './prepare-append.js';
import { pageLimit } from './redis-log-follower.js';

/**
 * In-process `EventStore` with the same semantics as the Redis one: the embedded default of
 * `npm start` without Redis, and the fast adapter of unit tests. Positions are `"<n>"`.
 */
export class MemoryEventStore implements EventStore {
  /** Emits `(channel, idempotencyKey)` where the Redis store would `PUBLISH` a reply. */
  readonly replies = new EventEmitter();
  /** Jobs queued by appends (`enqueue`). */
  readonly jobs = new MemoryJobs();
  private readonly streams = new Map<string, RecordedEvent[]>();
  private readonly log: RecordedEvent[] = [];
  private readonly outcomes = new Map<string, { outcome: Outcome; expiresAt: number }>();
  /** The notifications written with the events (what `{sc}:notify` holds in Redis). */
  readonly notifications: MemoryNotifications;
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<Subscription>();

  constructor(private readonly settings: StoreSettings) {
    this.appended.setMaxListeners(0);
    this.notifications = new MemoryNotifications(settings.notifyRetention);
    this.replies.setMaxListeners(0); // one listener per command waiting for its reply
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const p = prepareAppend(this.settings, streamId, events, options);
    const previous = p.idempotencyKey ? this.liveOutcome(p.idempotencyKey) : undefined;
    if (previous) return { duplicate: true, outcome: previous };
    const stream = this.streams.get(streamId) ?? [];
    const current = stream.length;
    const { kind, version } = p.expected;
    if (
      (kind === 'exact' && current !== version) ||
      (kind === 'no_stream' && current !== 0) ||
      (kind === 'exists' && current === 0)
    ) {
      throw new ConcurrencyError(streamId, options.expectedVersion ?? 'any', current);
    }
    if (p.job && this.jobs.waiting(p.job.queue) >= p.job.maxWaiting) {
      throw queueFull(p.job, this.jobs.waiting(p.job.queue));
    }
    const recorded = p.events.map((e, i): RecordedEvent => {
      const event: RecordedEvent = {
        id: e.id,
        type: e.type,
        schemaVersion: e.schemaVersion,
        streamId,
        version: current + 1 + i,
        globalPosition: String(this.log.length + 1 + i),
        data: JSON.parse(e.data),
        metadata: e.metadata,
      };
      return event;
    });
    stream.push(...recorded);
    this.streams.set(streamId, stream);
    this.log.push(...recorded);
    const written = p.notifications.map((n) => this.notifications.write(n, this.settings.serverId));
    if (p.job) this.jobs.push(p.job);
    const appended = {
      kind: 'appended' as const,
      streamId,
      firstVersion: current + 1,
      lastVersion: current + recorded.length,
      globalPositions: recorded.map((e) => e.globalPosition),
      ...(options.result !== undefined ? { result: JSON.parse(p.resultJson) } : {}),
    };
    if (p.idempotencyKey) this.remember(p.idempotencyKey, appended, p.replyChannel);
    this.appended.emit('events');
    return { duplicate: false, ...appended, events: recorded, notifications: written };
  }

  async recordOutcome(
    idempotencyKey: string,
    outcome: Exclude<Outcome, { kind: 'appended' }>,
    options: RecordOutcomeOptions = {},
  ): Promise<{ recorded: boolean; outcome: Outcome }> {
    assertIdempotencyKey(idempotencyKey);
    const previous = this.liveOutcome(idempotencyKey);
    if (previous) return { recorded: false, outcome: previous };
    this.remember(idempotencyKey, JSON.parse(JSON.stringify(outcome)), options.replyChannel ?? '');
    return { recorded: true, outcome };
  }

  async getOutcome(idempotencyKey: string): Promise<Outcome | undefined> {
    assertIdempotencyKey(idempotencyKey);
    return this.liveOutcome(idempotencyKey);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StreamPage> {
    assertStreamId(streamId);
    const limit = pageLimit(options.limit);
    const from = fromVersionOf(options);
    const stream = this.streams.get(streamId) ?? [];
    if (options.direction === 'backward') {
      const top = Math.min(from ?? stream.length, stream.length);
      const candidates = stream.slice(Math.max(top - limit, 0), top).reverse();
      const events = fitting(candidates, options.budget);
      const last = events.at(-1);
      return {
        events,
        nextVersion: last ? last.version - 1 : (from ?? 0),
        isEnd: events.length === candidates.length && top - limit <= 0,
      };
    }
    const start = Math.max(from ?? 1, 1);
    const candidates = stream.slice(start - 1, start - 1 + limit);
    const events = fitting(candidates, options.budget);
    const last = events.at(-1);
    return {
      events,
      nextVersion: last ? last.version + 1 : start,
      isEnd: events.length === candidates.length && start - 1 + limit >= stream.length,
    };
  }

  async readAll(options: ReadAllOptions = {}): Promise<LogPage> {
    const limit = pageLimit(options.limit);
    let index = positionIndex(options.after);
    const types = options.types ? new Set(options.types) : undefined;
    const events: RecordedEvent[] = [];
    while (index < this.log.length && events.length < limit) {
      const event = this.log[index]!;
      if (types && !types.has(event.type)) {
        index += 1;
        continue;
      }
      if (options.budget && !options.budget.take(eventBytes(event))) {
        return { events, nextPosition: String(index), isEnd: false };
      }
      events.push(event);
      index += 1;
    }
    return { events, nextPosition: String(index), isEnd: index >= this.log.length };
  }

  async head(): Promise<string> {
    return String(this.log.length);
  }

  subscribeAll(
    options: SubscribeAllOptions,
    handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  ): Subscription {
    let index = positionIndex(options.after);
    const batch = options.batchSize ?? 500;
    let closing = false;
    let wake: () => void = () => {};
    const waitForMore = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        this.appended.once('events', resolve);
      });
    const run = async () => {
      while (!closing) {
        if (index >= this.log.length) {
          await waitForMore();
          continue;
        }
        const events = this.log.slice(index, index + batch);
        await handler(events);
        index += events.length;
      }
    };
    const done = run();
    done.catch(() => {});
    const subscription: Subscription = {
      get position() {
        return String(index);
      },
      done,
      close: async () => {
        closing = true;
        this.appended.off('events', wake);
        wake();
        await done.catch(() => {});
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** How much the store holds: what `{sc}:*` keys would hold in Redis. */
  stats(): { streams: number; events: number; outcomes: number; notifications: number } {
    return {
      streams: this.streams.size,
      events: this.log.length,
      outcomes: this.outcomes.size,
      notifications: this.notifications.size,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
  }

  private remember(key: string, outcome: Outcome, replyChannel: string): void {
    this.outcomes.set(key, { outcome, expiresAt: Date.now() + this.settings.dedupTtlS * 1000 });
    if (replyChannel) this.replies.emit(replyChannel, `${key}\t${JSON.stringify(outcome)}`);
  }

  private liveOutcome(key: string): Outcome | undefined {
    const entry = this.outcomes.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.outcomes.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.outcome : undefined;
  }
}

function positionIndex(position: string | undefined): number {
  const value = position ?? START;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) {
    throw new ValidationError(
      `invalid position ${JSON.stringify(value)}: pass a globalPosition or nextPosition you were given, or "0"`,
      [{ path: 'after', message: 'invalid position' }],
    );
  }
  return Number(value);
}
