import { v5 as uuidv5 } from 'uuid';
import type { Command, Decider, DomainEvent, NotificationMapper } from '../domain/decider.js';
import { ConcurrencyError } from '../errors.js';
import {
  ANY,
  type ExpectedVersion,
  type Json,
  NO_STREAM,
  STREAM_EXISTS,
} from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandEnvelope, CommandHandler } from './command-bus.js';

/** Namespace of deterministic event ids: uuid v5 of `<idempotency key>/<index>`. */
const EVENT_ID_NAMESPACE = '6f1c7c52-4a55-4f0e-9d43-1b8f2c5e7a10';

/** How a command type is handled by a decider. */
export interface DeciderSpec<C extends Command, E extends DomainEvent, S> {
  readonly decider: Decider<C, E, S>;
  /** Turns the bus envelope into the typed command (validating its data). */
  toCommand(envelope: CommandEnvelope): C;
  /** The stream the command changes. */
  streamId(command: C): string;
  /** The version the client expects, if it said so (a mismatch is then the answer, not retried). */
  expectedVersion?(envelope: CommandEnvelope): ExpectedVersion | undefined;
  /** Notifications of each event, written with it. */
  readonly notify?: NotificationMapper<E>;
  /** The answer recorded with the events (the store adds version and global position). */
  result(command: C, events: readonly E[], state: S): Json;
  /**
   * The stream is a log without invariants (a user's sent messages): decide on the initial state
   * and append at any version, so concurrent commands never conflict. Its notifications get no
   * stream version.
   */
  readonly unversioned?: boolean;
}

/** Tuning of the runtime. */
export interface DeciderRuntimeOptions {
  /** Entities kept in memory (most recently used). */
  readonly cacheSize?: number;
  /** Reload-and-decide-again rounds on a conflict with another writer. */
  readonly maxConflictRetries?: number;
}

interface Cached<S> {
  state: S;
  version: number;
}

/**
 * The command-handling runtime for deciders: loads the entity (cached state plus a tail read,
 * never a full replay per command), decides, appends with the expected version, deterministic
 * event ids and the command id as idempotency key, and retries a conflict by reloading (bounded).
 */
export function deciderHandler<C extends Command, E extends DomainEvent, S>(
  store: EventStore,
  spec: DeciderSpec<C, E, S>,
  options: DeciderRuntimeOptions = {},
): CommandHandler {
  const cache = new Map<string, Cached<S>>();
  const cacheSize = options.cacheSize ?? 10_000;
  const maxRetries = options.maxConflictRetries ?? 5;

  const remember = (streamId: string, entity: Cached<S>) => {
    cache.delete(streamId); // re-inserted last: the Map's order is the recency order
    cache.set(streamId, entity);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
  };

  /**
   * The entity to decide on: the cached state brought up to date with a tail read (usually
   * empty). Commands for one entity land on any instance, so a cache is stale as often as not;
   * deciding on it optimistically cost a failed append per conflict (measured: slower with two
   * workers). Cached entities are never mutated (concurrent commands may hold the same one).
   */
  const load = async (streamId: string): Promise<Cached<S>> => {
    const cached = cache.get(streamId);
    let { state, version } = cached ?? { state: spec.decider.initialState(), version: 0 };
    for (;;) {
      const page = await store.readStream(streamId, { fromVersion: version + 1, limit: 1000 });
      for (const event of page.events) state = spec.decider.evolve(state, event as unknown as E);
      version = page.events.at(-1)?.version ?? version;
      if (page.isEnd) break;
    }
    const entity = { state, version };
    remember(streamId, entity);
    return entity;
  };

  return async (envelope) => {
    const command = spec.toCommand(envelope);
    const streamId = spec.streamId(command);
    const clientExpected = spec.expectedVersion?.(envelope);
    const exact = typeof clientExpected === 'number' ? clientExpected : undefined;
    for (let round = 0; ; round++) {
      const entity = spec.unversioned
        ? { state: spec.decider.initialState(), version: 0 }
        : await load(streamId);
      if (exact !== undefined && entity.version !== exact)
        throw new ConcurrencyError(streamId, exact, entity.version);
      if (clientExpected === STREAM_EXISTS && entity.version === 0)
        throw new ConcurrencyError(streamId, STREAM_EXISTS, 0);
      if (clientExpected === NO_STREAM && entity.version !== 0)
        throw new ConcurrencyError(streamId, NO_STREAM, entity.version);
      const events = spec.decider.decide(command, entity.state);
      if (events.length === 0) throw new Error(`${command.type} decided no events`);
      const timestamp = command.metadata.timestamp;
      let duplicate: boolean;
      try {
        const appended = await store.append(
          streamId,
          events.map((e, i) => ({
            id: uuidv5(`${envelope.id}/${i}`, EVENT_ID_NAMESPACE),
            type: e.type,
            data: e.data,
          })),
          {
            expectedVersion: spec.unversioned ? ANY : entity.version,
            idempotencyKey: envelope.id,
            result: spec.result(command, events, entity.state),
            metadata: {
              commandId: envelope.id,
              causationId: envelope.id,
              correlationId: command.metadata.correlationId,
              userId: command.metadata.userId,
              timestamp,
            },
            notifications: spec.notify
              ? events.flatMap((e, i) =>
                  spec.notify!(e, { streamId, version: entity.version + 1 + i, timestamp }),
                )
              : [],
            ...(envelope.metadata.replyTo ? { replyChannel: envelope.metadata.replyTo } : {}),
          },
        );
        duplicate = appended.duplicate;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        if (exact !== undefined) throw new ConcurrencyError(streamId, exact, error.actualVersion);
        if (round >= maxRetries)
          throw new Error(
            `${streamId} kept changing under ${command.type} (${round + 1} conflicts)`,
          );
        continue; // another writer won: reload from the store and decide again
      }
      if (duplicate || spec.unversioned) return; // a redelivery, or nothing to cache
      remember(streamId, {
        state: events.reduce((s, e) => spec.decider.evolve(s, e), entity.state),
        version: entity.version + events.length,
      });
      return;
    }
  };
}
