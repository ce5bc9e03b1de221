/**
 * Command records (issue 15): what a remembered idempotency key costs is one small string key,
 * `{tag}:c:<digest>` (keys.ts), for COMMAND_DEDUP_TTL_S. Its value says where the command is:
 *
 *   s                          sent (enqueued), not handled yet
 *   a<position>[+<n>][|<json>|=]  appended: its n events start at this position (as clients see
 *                              it: `<p>:<entry id>` with partitions; n = 1 when left out), then
 *                              the result JSON, or `=` when the result is derived from the events
 *                              again (`CommandDefinition.resultOfEvents`), or nothing (none)
 *   {…}                        a recorded answer or `dead` (the outcome JSON, as before)
 *
 * (`~` before any of them: written, not yet confirmed by REDIS_WAIT_REPLICAS.) An appended
 * outcome is found again from the events it recorded, read like `events.readAll` reads them: in
 * the log in Redis, or in the archive once the log is trimmed below them. The scripts write the same forms (commit-batch-n,
 * enqueue-commands-n, dead-letter-4, redrive-command-5).
 */
import type { Json } from './envelope.js';
import type { EventStore } from './event-store.js';
import { appendedOf, decodeOutcome, type Outcome } from './outcome.js';
import { withoutMark } from './unconfirmed.js';

/** The record of a command enqueued and not handled yet. */
export const SENT = 's';

/** A stored record, read. */
export type CommandRecord =
  | { readonly kind: 'sent' }
  | { readonly kind: 'outcome'; readonly outcome: Outcome }
  | {
      readonly kind: 'reference';
      /** The first event's position, as clients see it. */
      readonly position: string;
      readonly count: number;
      readonly result?: Json;
      /** The result is derived from the events again (the outcome then carries them). */
      readonly derived: boolean;
    };

/** Reads a stored record (confirmed or not); a corrupt one throws. */
export function parseRecord(stored: string): CommandRecord {
  const text = withoutMark(stored);
  if (text === SENT) return { kind: 'sent' };
  if (!text.startsWith('a')) return { kind: 'outcome', outcome: decodeOutcome(text) };
  const bar = text.indexOf('|');
  const derived = bar < 0 && text.endsWith('=');
  const head = bar >= 0 ? text.slice(1, bar) : text.slice(1, derived ? -1 : undefined);
  const [position = '', count = '1'] = head.split('+');
  if (!/^(\d+:)?\d+-\d+$/.test(position) || !/^[1-9]\d*$/.test(count)) {
    throw new Error(`a stored command record is corrupt: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const result = bar < 0 ? {} : { result: JSON.parse(text.slice(bar + 1)) as Json };
  return { kind: 'reference', position, count: Number(count), derived, ...result };
}

/** The entry id just before `id` (reads start after an exclusive position). */
export function entryBefore(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`;
  // the largest sequence an archive keeps (PostgreSQL bigint); Redis never reaches it in practice
  return `${BigInt(ms) - 1n}-9223372036854775807`;
}

/** Turns stored records into outcomes, reading the events a reference points at. */
export class CommandRecords {
  /**
   * @param logOf the log of a partition (undefined: the only one) as its store reads it: Redis,
   *   and the archive for history trimmed from Redis (issue 15 "Reads stitch the tiers").
   */
  constructor(
    private readonly logOf: (partition: number | undefined) => Pick<EventStore, 'readAll'>,
  ) {}

  /** The outcome a stored record stands for; undefined for `sent` (not handled yet). */
  async outcomeOf(stored: string): Promise<Outcome | undefined> {
    const record = parseRecord(stored);
    if (record.kind === 'sent') return undefined;
    if (record.kind === 'outcome') return record.outcome;
    const at = record.position.lastIndexOf(':');
    const prefix = record.position.slice(0, at + 1);
    const after = prefix + entryBefore(record.position.slice(at + 1));
    const partition = at < 0 ? undefined : Number(prefix.slice(0, -1));
    const page = await this.logOf(partition).readAll({ after, limit: record.count });
    const events = page.events;
    const first = events[0];
    if (events.length !== record.count || first?.globalPosition !== record.position) {
      throw new Error(
        `the events of a command record (${record.count} at ${record.position}) are neither in Redis nor in the archive: was the log trimmed below them without an archive (LOG_RETENTION_MS)?`,
      );
    }
    const recorded = events.map(({ type, data, metadata: { timestamp } }) => ({
      type,
      data,
      metadata: { timestamp },
    }));
    return { ...appendedOf(events, record.result), ...(record.derived ? { recorded } : {}) };
  }
}
