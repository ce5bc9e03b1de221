/**
 * What an idempotency key was used for: the outcome recorded with a command's events (or instead
 * of them), and what every repeat of the command is answered with. Outcomes are domain outcomes —
 * the events' place and the typed result, a domain error with its rule and data, or `dead` with
 * its attempts — never wire errors: each edge (JSON-RPC, REST) maps them in one place. They are
 * read back from Redis, so they are decoded by a schema here, never cast.
 */
import { z } from 'zod';
import {
  type AnswerError,
  ConcurrencyError,
  DeadLetteredError,
  DomainRuleError,
  ForbiddenError,
  NotFoundError,
  OverloadedError,
  ValidationError,
} from '../errors.js';
import type { Json, RecordedEvent } from './envelope.js';
import { withoutMark } from './unconfirmed.js';

const issue = z.object({ path: z.string(), message: z.string() });

/** A recorded `AnswerError`: enough to raise the same error, with the same message, again. */
export const answerRecordSchema = z.discriminatedUnion('error', [
  z.object({ error: z.literal('validation'), message: z.string(), issues: z.array(issue) }),
  z.object({
    error: z.literal('not-found'),
    message: z.string(),
    kind: z.string(),
    id: z.string(),
  }),
  z.object({ error: z.literal('forbidden'), message: z.string() }),
  z.object({
    error: z.literal('conflict'),
    message: z.string(),
    streamId: z.string(),
    expectedVersion: z.union([z.string(), z.number()]),
    actualVersion: z.number(),
  }),
  z.object({ error: z.literal('rule'), message: z.string(), rule: z.string() }),
  z.object({ error: z.literal('overloaded'), message: z.string(), retryAfterMs: z.number() }),
]);

/** A recorded `AnswerError` (see `answerRecordSchema`). */
export type AnswerRecord = z.output<typeof answerRecordSchema>;

/** The record of an answer, as stored with the outcome. */
export function answerRecordOf(error: AnswerError): AnswerRecord {
  const { message } = error;
  if (error instanceof ValidationError) {
    return { error: 'validation', message, issues: error.issues.map((i) => ({ ...i })) };
  }
  if (error instanceof NotFoundError) {
    return { error: 'not-found', message, kind: error.kind, id: error.id };
  }
  if (error instanceof ForbiddenError) return { error: 'forbidden', message };
  if (error instanceof ConcurrencyError) {
    const { streamId, expectedVersion, actualVersion } = error;
    return { error: 'conflict', message, streamId, expectedVersion, actualVersion };
  }
  if (error instanceof DomainRuleError) return { error: 'rule', message, rule: error.rule };
  return { error: 'overloaded', message, retryAfterMs: error.retryAfterMs };
}

/** The typed error a record stands for, to be thrown again for a repeat of its command. */
export function answerErrorOf(record: AnswerRecord): AnswerError {
  switch (record.error) {
    case 'validation':
      return new ValidationError(record.message, record.issues);
    case 'not-found':
      return new NotFoundError(record.kind, record.id, record.message);
    case 'forbidden':
      return new ForbiddenError(record.message);
    case 'conflict':
      return new ConcurrencyError(record.streamId, record.expectedVersion, record.actualVersion);
    case 'rule':
      return new DomainRuleError(record.rule, record.message);
    case 'overloaded':
      return new OverloadedError(record.message, record.retryAfterMs);
    default: {
      const unknown: never = record;
      throw new Error(`unknown answer record ${JSON.stringify(unknown)}`);
    }
  }
}

const json: z.ZodType<Json> = z.json();

/** The outcome of an idempotency key, decoded from its stored JSON. */
export const outcomeSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('appended'),
    streamId: z.string(),
    firstVersion: z.number().int(),
    lastVersion: z.number().int(),
    globalPositions: z.array(z.string()).readonly(),
    result: json.optional(),
    /**
     * The recorded events (type and data), when the outcome was found again from them (a command
     * record's reference, command-records.ts): a result left out of the record is derived from them.
     */
    recorded: z
      .array(
        z.object({ type: z.string(), data: json, metadata: z.object({ timestamp: z.string() }) }),
      )
      .readonly()
      .optional(),
  }),
  z.object({ kind: z.literal('rejected'), error: answerRecordSchema }),
  z.object({ kind: z.literal('dead'), attempts: z.number().int(), lastError: z.string() }),
]);

/**
 * What an idempotency key was used for, as recorded by the first append or `recordOutcome`:
 * `appended` (the ok outcome: where the events landed and the command's typed result), `rejected`
 * (a domain error), or `dead` (dead-lettered after its attempts).
 */
export type Outcome = z.output<typeof outcomeSchema>;

/** The outcome of an append that wrote its events. */
export type Appended = Extract<Outcome, { kind: 'appended' }>;

/**
 * The error a command's outcome answers with: its recorded domain error, or `DeadLetteredError`;
 * undefined for an appended outcome.
 */
export function errorOfOutcome(
  commandId: string,
  outcome: Outcome,
): AnswerError | DeadLetteredError | undefined {
  switch (outcome.kind) {
    case 'appended':
      return undefined;
    case 'rejected':
      return answerErrorOf(outcome.error);
    case 'dead':
      return new DeadLetteredError(commandId, outcome.attempts, outcome.lastError);
    default: {
      const unknown: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * Decodes a stored outcome (confirmed or not: `unconfirmed.ts`); a corrupt one throws (it is never
 * taken for an answer).
 */
export function decodeOutcome(text: string): Outcome {
  const parsed = outcomeSchema.safeParse(JSON.parse(withoutMark(text)));
  if (!parsed.success) {
    throw new Error(`a stored command outcome is corrupt: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** The version and global position of an append's last event (what command answers quote). */
export function landedAt(outcome: Appended): { version: number; globalPosition: string } {
  return { version: outcome.lastVersion, globalPosition: outcome.globalPositions.at(-1) ?? '' };
}

/** The outcome of an append, from its events (in version order, at least one) and its result. */
export function appendedOf(events: readonly RecordedEvent[], result?: Json): Appended {
  const first = events[0]!;
  return {
    kind: 'appended',
    streamId: first.streamId,
    firstVersion: first.version,
    lastVersion: events.at(-1)!.version,
    globalPositions: events.map((e) => e.globalPosition),
    ...(result !== undefined ? { result } : {}),
  };
}
