import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { Json, JsonData, NotificationRecord } from '../events/envelope.js';

/** Who sent a command and when: the only source of time and identity a decider sees. */
export interface CommandMetadata {
  readonly commandId: string;
  readonly userId: string;
  readonly correlationId: string;
  /** ISO-8601 time the command was accepted; deciders use it instead of a clock. */
  readonly timestamp: string;
  readonly groups?: readonly string[];
  readonly roles?: readonly string[];
}

/** A command: a typed request to change one entity. */
export interface Command<Type extends string = string, Data extends JsonData = JsonData> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
}

/** When an event was recorded (the command's time, never a clock inside the domain). */
export interface EventTime {
  readonly timestamp: string;
}

/**
 * An event as a decider produces it (the store adds id, version, position and metadata). Events
 * read back from a stream also carry the time they were recorded, for folds that need it.
 */
export interface DomainEvent<Type extends string = string, Data extends Json = Json> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata?: EventTime;
}

/** An event as read back from a stream, before it is decoded into its entity's typed events. */
export interface StoredEvent {
  readonly type: string;
  readonly data: Json;
  readonly metadata: EventTime;
}

/**
 * Decodes a stored event into its entity's typed event (a checked decoder, never a cast):
 * undefined for an event type the entity does not know, `ValidationError` for malformed data.
 */
export type EventDecoder<E extends DomainEvent> = (event: StoredEvent) => E | undefined;

const eventTime = z.object({ timestamp: z.string() });

/** The schema of one event type: its name and the schema of its data. */
export function eventSchema<T extends string, D extends z.ZodType<Json>>(type: T, data: D) {
  return z.object({ type: z.literal(type), data, metadata: eventTime.optional() });
}

/** Any schema made by `eventSchema`. */
type AnyEventSchema = ReturnType<typeof eventSchema<string, z.ZodType<Json>>>;

/** An `EventDecoder` from the schemas of an entity's event types (`eventSchema`). */
export function eventDecoder<S extends AnyEventSchema>(
  schemas: readonly S[],
): (event: StoredEvent) => z.output<S> | undefined {
  const byType = new Map<string, S>(schemas.map((s) => [s.shape.type.value, s]));
  return (event) => {
    const schema = byType.get(event.type);
    if (!schema) return undefined;
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      throw new ValidationError(
        `a stored ${event.type} event does not have its shape: ${parsed.error.issues[0]?.message}`,
      );
    }
    return parsed.data;
  };
}

/** Where an event landed, for notification mappers that quote it. */
export interface EventContext {
  readonly streamId: string;
  readonly version: number;
  readonly timestamp: string;
}

/**
 * A decider (emmett's shape): pure functions, no I/O, no clock. `decide` throws only typed domain
 * errors (`DomainRuleError`, `ValidationError`, `NotFoundError`).
 */
export interface Decider<C extends Command, E extends DomainEvent, S> {
  initialState(): S;
  evolve(state: S, event: E): S;
  decide(command: C, state: S): readonly E[];
}

/**
 * Maps an event to the notifications it causes (pure); `state`, the entity after the event, is
 * given by the runtime to mappers that need it.
 */
export type NotificationMapper<E extends DomainEvent, S = unknown> = (
  event: E,
  context: EventContext,
  state?: S,
) => readonly NotificationRecord[];
