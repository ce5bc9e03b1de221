import type { Json, NotificationRecord } from '../events/envelope.js';

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
export interface Command<Type extends string = string, Data extends Json = Json> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata: CommandMetadata;
}

/** An event as a decider produces it (the store adds id, version, position and metadata). */
export interface DomainEvent<Type extends string = string, Data extends Json = Json> {
  readonly type: Type;
  readonly data: Data;
}

/** Where an event landed, for notification mappers that quote it. */
export interface EventContext {
  readonly streamId: string;
  readonly version: number;
  readonly timestamp: string;
}

/**
 * A decider (emmett's shape): pure functions, no I/O, no clock. `decide` throws only typed domain
 * errors (`DomainRuleError`, `ValidationError`).
 */
export interface Decider<C extends Command, E extends DomainEvent, S> {
  initialState(): S;
  evolve(state: S, event: E): S;
  decide(command: C, state: S): readonly E[];
}

/** Maps an event to the notifications it causes (pure). */
export type NotificationMapper<E extends DomainEvent> = (
  event: E,
  context: EventContext,
) => readonly NotificationRecord[];
