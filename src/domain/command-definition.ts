/**
 * One command, defined once (the way emmett makes the decider the unit): its params schema, how
 * the edge turns params into the command on the bus, the one stream it appends to, its decider,
 * the notifications its events produce, its typed result and the domain errors it may answer
 * with. The JSON-RPC method, the REST route, the bus encoding, the handler, the OpenRPC entry and
 * the typed answer of `send` are all derived from it; adding a command is one new file with a
 * `defineCommand` and one line in the catalogue (`catalogue.ts`).
 */
import type { z } from 'zod';
import type { ExpectedVersion, Json, JsonData, NotificationRecord } from '../events/envelope.js';
import type { JobToQueue, ReadStreamOptions, StreamPage } from '../events/event-store.js';
import type { Actor } from './actor.js';
import type { Command, Decider, DomainEvent, EventContext, StoredEvent } from './decider.js';

/** The settings the domain takes from the configuration. */
export interface DomainSettings {
  /** TRAINER_SPEED: units per second. */
  readonly trainerSpeed: number;
  /** DEPLOY_MAX_QUEUED: deployments waiting for a runner before the queue is full. */
  readonly deployMaxQueued: number;
}

/** What the edge knows when it turns validated params into a command. */
export interface EdgeContext {
  readonly actor: Actor;
  /** The command's id: the client's `commandId`, or a new one. */
  readonly commandId: string;
  /**
   * Seals a connection's secrets (JSON) under SECRET_KEY, bound to the connection id: the
   * receiving instance seals them before anything leaves it, so the bus only sees ciphertext.
   */
  seal(connectionId: string, secretsJson: string): string;
}

/** What a command may read or store before it is decided (I/O a decider never does itself). */
export interface CommandPorts {
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StreamPage>;
  /**
   * Stores a connection's sealed secrets, written once per connection id: the same value again is
   * a no-op, another value is refused with `DomainRuleError` (`connection-exists`).
   */
  storeSecret(connectionId: string, sealed: string): Promise<void>;
}

/** The kinds of domain error a command may answer with; each edge maps them to its own codes. */
export type AnswerKind =
  | 'validation'
  | 'not-found'
  | 'forbidden'
  | 'conflict'
  | 'rule'
  | 'overloaded';

/** Where an answered command's events landed: the version and position of its last event. */
export interface Landed {
  readonly version: number;
  readonly globalPosition: string;
}

/** The JSON-RPC method of a command (SPEC.md §4). */
export interface CommandMethod {
  /** `area.verb`, e.g. `trainer.move`. */
  readonly name: string;
  /** One line for `rpc.discover`. */
  readonly summary: string;
  readonly description?: string;
  /** Who may send it (default any authenticated user). */
  readonly auth?: 'user' | 'admin';
}

/** A command's REST route of seed 003: `POST <path>`, answered `{code, message, data}`. */
export interface CommandRoute<A> {
  readonly path: string;
  /** The success envelope's `message`. */
  readonly message: string;
  /** The success envelope's `data` (default: the answer). */
  data?(answer: A): Json;
}

/**
 * The definition of one command type `T`: params `P` (validated once, at the edge), its data `D` on
 * the bus, prepared facts `X`, the decider's command `C`, events `E` and state `S`, the recorded
 * result `R` and the answer `A` its callers get.
 */
export interface CommandDefinition<
  T extends string = string,
  P extends z.ZodObject = z.ZodObject,
  D extends JsonData = JsonData,
  X = unknown,
  C extends Command = Command,
  E extends DomainEvent = DomainEvent,
  S = unknown,
  R extends Json = Json,
  A extends Json = Json,
> {
  /** The command type on the bus (PascalCase, a verb and its entity). */
  readonly type: T;
  readonly method: CommandMethod;
  /** Seed 003's REST route, for the commands that have one. */
  readonly route?: CommandRoute<A>;
  /** The JSON-RPC params (also the REST body): validated once, at the edge. */
  readonly params: P;
  /** The command's data as it travels on the bus, decoded with this schema when read back. */
  readonly data: z.ZodType<D>;
  /** The domain errors it may answer with (listed in `rpc.discover`). */
  readonly answers: readonly AnswerKind[];
  /**
   * The command's data from validated params, at the edge: checks who may do this (throws
   * `ForbiddenError`), adds server-made ids and seals secrets.
   */
  toData(params: z.output<P>, edge: EdgeContext): D;
  /** The one stream the command appends to: a pure function of the command. */
  streamId(command: Command<T, D>): string;
  /** The expected version the client asked for, if any (a mismatch is then the answer). */
  clientExpectation?(command: Command<T, D>): ExpectedVersion | undefined;
  /**
   * The stream is a log without invariants (a user's sent messages): decided on the initial
   * state and appended at any version, so concurrent commands never conflict.
   */
  readonly unversioned?: boolean;
  /**
   * Opts the entity into snapshots (SNAPSHOT_EVERY): `schema` names the state's shape (e.g.
   * `trainer/1`; change it when the state's shape changes: older snapshots are then rebuilt). The
   * state must survive JSON.
   */
  readonly snapshot?: { readonly schema: string };
  /** Reads or stores what deciding needs (other entities, sealed secrets); idempotent. */
  prepare?(command: Command<T, D>, ports: CommandPorts): Promise<X>;
  /** The decider of the command's entity, for `settings`. */
  decider(settings: DomainSettings): Decider<C, E, S>;
  /** Decodes the entity's stored events. */
  decode(event: StoredEvent): E | undefined;
  /** The decider's command (pure): the bus command and the prepared facts (none without `prepare`). */
  command(command: Command<T, D>, prepared: X | undefined): C;
  /** Notifications of each event, written with it; `state` is the entity after that event. */
  notify?(event: E, context: EventContext, state: S): readonly NotificationRecord[];
  /** A job queued in the same atomic step as the events (e.g. a deployment's run). */
  job?(command: Command<T, D>, settings: DomainSettings): JobToQueue;
  /** The result recorded with the events, decoded with this schema when read back. */
  readonly result: z.ZodType<R>;
  /** The result of the decided events (`state` is the entity after them). */
  resultOf(command: Command<T, D>, events: readonly E[], state: S): R;
  /**
   * The same result derived again from the recorded events alone, when it can be: the command
   * record then keeps only where the events are (≤ 120 bytes, README "Command records"), and a
   * repeat's answer is derived from them. Without it the result is stored in the record.
   */
  resultOfEvents?(commandId: string, events: readonly E[]): R;
  /** The answer's schema (documents it in `rpc.discover`). */
  readonly answer: z.ZodType<A>;
  /** The answer of a handled command: its recorded result and where its events landed. */
  answerOf(result: R, landed: Landed): A;
}

/**
 * Any command definition, so the catalogue can hold them side by side (every function of a
 * definition is a method, so a specific definition fits the defaults).
 */
export type AnyCommandDefinition = CommandDefinition;

/** Defines a command; the generics are inferred from the definition. */
export function defineCommand<
  T extends string,
  P extends z.ZodObject,
  D extends JsonData,
  X,
  C extends Command,
  E extends DomainEvent,
  S,
  R extends Json,
  A extends Json,
>(
  definition: CommandDefinition<T, P, D, X, C, E, S, R, A>,
): CommandDefinition<T, P, D, X, C, E, S, R, A> {
  return definition;
}
