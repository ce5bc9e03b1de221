import type { z } from 'zod';
/**
 * The handler of a defined command: decodes the bus command with its data schema, prepares what
 * the decider needs, loads the entity (cached state plus a tail read), checks the client's
 * expected version, decides, and returns the decision — events with their notifications, the
 * result and the job. The `CommandRuntime` commits it.
 */
import type {
  CommandDefinition,
  CommandPorts,
  DomainSettings,
} from '../domain/command-definition.js';
import type { Command, DomainEvent, StoredEvent } from '../domain/decider.js';
import { validationErrorFromZod } from '../error-codes.js';
import { ConcurrencyError } from '../errors.js';
import {
  ANY,
  type ExpectedVersion,
  type JsonData,
  NO_STREAM,
  type NotificationRecord,
  STREAM_EXISTS,
} from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandEnvelope, CommandHandler } from './command-bus.js';
import type { Decision } from './decision.js';
import {
  catchUp,
  type Entity,
  EntityCache,
  holdsVersion,
  loadEntity,
  Recent,
  type Snapshotting,
  snapshotIfDue,
} from './entity.js';

/** What the handlers of the catalogue work with. */
export interface HandlerDeps {
  /** Reads entities' streams (a tail read before every decision). */
  readonly store: Pick<EventStore, 'readStream'>;
  /** What `prepare` may use. */
  readonly ports: CommandPorts;
  readonly settings: DomainSettings;
  /** Entities kept in memory per command type (most recently used; default 10 000). */
  readonly cacheSize?: number;
  /** Snapshots (SNAPSHOT_EVERY > 0), for the definitions that opt in (`definition.snapshot`). */
  readonly snapshots?: Omit<Snapshotting, 'schema'>;
}

/** The bus command of `definition`, its data decoded with the definition's schema. */
export function decodeCommand<T extends string, D extends JsonData>(
  definition: { readonly type: T; readonly data: { safeParse(data: unknown): SafeParsed<D> } },
  envelope: CommandEnvelope,
): Command<T, D> {
  const parsed = definition.data.safeParse(envelope.data);
  if (!parsed.success) {
    throw validationErrorFromZod(`${envelope.type} ${envelope.id} is malformed`, parsed.error);
  }
  return { type: definition.type, data: parsed.data, metadata: envelope.metadata };
}

type SafeParsed<D> =
  | { readonly success: true; readonly data: D }
  | { readonly success: false; readonly error: Parameters<typeof validationErrorFromZod>[1] };

/** A mismatch with the client's own expected version is the command's answer. */
function checkExpectation(
  expected: ExpectedVersion | undefined,
  streamId: string,
  version: number,
): void {
  if (expected === undefined || expected === ANY) return;
  const mismatch =
    (typeof expected === 'number' && version !== expected) ||
    (expected === STREAM_EXISTS && version === 0) ||
    (expected === NO_STREAM && version !== 0);
  if (mismatch) throw new ConcurrencyError(streamId, expected, version);
}

/** The command handler of one definition. */
export function definitionHandler<
  T extends string,
  D extends JsonData,
  X,
  C extends Command,
  E extends DomainEvent,
  S,
>(definition: CommandDefinition<T, z.ZodObject, D, X, C, E, S>, deps: HandlerDeps): CommandHandler {
  const decider = definition.decider(deps.settings);
  const fold = {
    evolve: (state: S, event: E) => decider.evolve(state, event),
    decode: (event: StoredEvent) => definition.decode(event),
  };
  const cache = new EntityCache<S>(deps.cacheSize ?? 10_000);
  /** Decided-on entities whose commit failed or conflicted are checked against the stream. */
  const decidedOn = new WeakSet<Entity<S>>();
  const initial = (): Entity<S> => ({ state: decider.initialState(), version: 0 });
  const snapshotting: Snapshotting | undefined =
    definition.snapshot && !definition.unversioned && deps.snapshots && deps.snapshots.every > 0
      ? { ...deps.snapshots, schema: definition.snapshot.schema }
      : undefined;
  /** The version of each cached entity's newest snapshot (-1: a distrusted one to replace). */
  const snapshotAt = new Recent<number>(deps.cacheSize ?? 10_000);

  /** An entity not cached (or lost): from its snapshot plus the tail, or folded from the events. */
  const loadAfresh = async (streamId: string): Promise<Entity<S>> => {
    if (!snapshotting) return catchUp(deps.store, fold, streamId, initial());
    const loaded = await loadEntity(deps.store, fold, streamId, initial(), snapshotting);
    snapshotAt.remember(streamId, loaded.snapshotAt);
    return loaded.entity;
  };

  /**
   * The cached entity brought up to date with a tail read (usually empty or one event). Commands
   * for one entity land on any instance, so a cache is stale as often as not; deciding on it
   * optimistically cost a failed append per conflict (measured: slower with two workers).
   */
  const load = async (streamId: string): Promise<Entity<S>> => {
    const cached = cache.get(streamId);
    let entity = cached
      ? await catchUp(deps.store, fold, streamId, cached)
      : await loadAfresh(streamId);
    if (cached && decidedOn.has(cached) && entity.version === cached.version) {
      // decided on before and the stream did not move since: the commit failed or conflicted. If
      // the stream no longer holds this version, Redis lost events (README "Guarantees" G5): the
      // cache is ahead of the stream and every commit on it would conflict — load it afresh
      if (!(await holdsVersion(deps.store, streamId, cached.version))) {
        entity = await loadAfresh(streamId);
      }
    }
    if (snapshotting) {
      const at = snapshotAt.get(streamId) ?? 0;
      snapshotAt.remember(streamId, await snapshotIfDue(streamId, entity, at, snapshotting));
    }
    cache.remember(streamId, entity);
    return entity;
  };

  /**
   * The entity each decision in flight leaves behind, by stream: commands of one batch for the
   * same stream are decided in order, each on the state the previous one produced (its commit is
   * chained to theirs in the same script, so their expected versions line up).
   */
  const provisional = new Map<string, Promise<Entity<S> | undefined>>();

  /** Decides on `entity` and returns the decision with the entity it leaves behind. */
  const decideOn = (
    command: Command<T, D>,
    streamId: string,
    prepared: X | undefined,
    entity: Entity<S>,
  ): { decision: Decision; after: Entity<S> } => {
    const expected = definition.clientExpectation?.(command);
    checkExpectation(expected, streamId, entity.version);
    const events = decider.decide(definition.command(command, prepared), entity.state);
    if (events.length === 0) throw new Error(`${command.type} decided no events`);
    const { timestamp } = command.metadata;
    const notifications: NotificationRecord[] = [];
    let state = entity.state;
    events.forEach((event, i) => {
      state = decider.evolve(state, { ...event, metadata: { timestamp } });
      const context = { streamId, version: entity.version + 1 + i, timestamp };
      notifications.push(...(definition.notify?.(event, context, state) ?? []));
    });
    const job = definition.job?.(command, deps.settings);
    const decision: Decision = {
      kind: 'append',
      streamId,
      expectedVersion: definition.unversioned ? ANY : entity.version,
      expectedByClient: typeof expected === 'number',
      events,
      notifications,
      result: definition.resultOf(command, events, state),
      ...(definition.resultOfEvents ? { resultDerived: true } : {}),
      ...(job ? { job } : {}),
    };
    return { decision, after: { state, version: entity.version + events.length } };
  };

  return async (envelope): Promise<Decision> => {
    const command = decodeCommand(definition, envelope);
    const streamId = definition.streamId(command);
    if (definition.unversioned) {
      const prepared = definition.prepare
        ? await definition.prepare(command, deps.ports)
        : undefined;
      return decideOn(command, streamId, prepared, initial()).decision;
    }
    const before = provisional.get(streamId);
    let leave: (entity: Entity<S> | undefined) => void = () => {};
    const left = new Promise<Entity<S> | undefined>((resolve) => {
      leave = resolve;
    });
    provisional.set(streamId, left);
    try {
      const prepared = definition.prepare
        ? await definition.prepare(command, deps.ports)
        : undefined;
      const entity = (before && (await before)) || (await load(streamId));
      decidedOn.add(entity);
      const { decision, after } = decideOn(command, streamId, prepared, entity);
      leave(after);
      return decision;
    } catch (error) {
      leave(undefined); // the next command of the stream loads it afresh
      throw error;
    } finally {
      if (provisional.get(streamId) === left) provisional.delete(streamId);
    }
  };
}
