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
 * outcome is found again from the events it recorded: in the log in Redis, or in the archive once
 * the log is trimmed below them. The scripts write the same forms (commit-batch-n,
 * enqueue-commands-n, dead-letter-4, redrive-command-5).
 */
import { compareEntryIds } from '../archive/event-archive.js';
import type { Json } from './envelope.js';
import type { LogTiers } from './log-tiers.js';
import { decodeOutcome, type Outcome } from './outcome.js';
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

/** One event of an appended outcome, as its log entry holds it. */
interface LoggedEvent {
  readonly entryId: string;
  readonly streamId: string;
  readonly version: number;
  readonly type: string;
  readonly data: Json;
  readonly timestamp: string;
}

/** The entry id just before `id` (the archive reads after an exclusive bound). */
export function entryBefore(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (seq !== '0') return `${ms}-${BigInt(seq) - 1n}`;
  // the largest sequence an archive keeps (PostgreSQL bigint); Redis never reaches it in practice
  return `${BigInt(ms) - 1n}-9223372036854775807`;
}

/** Turns stored records into outcomes, reading the events a reference points at. */
export class CommandRecords {
  /** @param log the partition's log as stitched reads see it: Redis, else (trimmed) the archive. */
  constructor(private readonly log: LogTiers) {}

  /** The outcome a stored record stands for; undefined for `sent` (not handled yet). */
  async outcomeOf(stored: string): Promise<Outcome | undefined> {
    const record = parseRecord(stored);
    if (record.kind === 'sent') return undefined;
    if (record.kind === 'outcome') return record.outcome;
    const at = record.position.lastIndexOf(':');
    const [prefix, entryId] = [record.position.slice(0, at + 1), record.position.slice(at + 1)];
    const events = await this.eventsAt(entryId, record.count);
    const first = events[0];
    if (events.length !== record.count || !first || first.entryId !== entryId) {
      throw new Error(
        `the events of a command record (${record.count} at ${record.position}) are neither in Redis nor in the archive`,
      );
    }
    return {
      kind: 'appended',
      streamId: first.streamId,
      firstVersion: first.version,
      lastVersion: events.at(-1)!.version,
      globalPositions: events.map((e) => prefix + e.entryId),
      ...(record.result !== undefined ? { result: record.result } : {}),
      ...(record.derived
        ? {
            recorded: events.map(({ type, data, timestamp }) => ({
              type,
              data,
              metadata: { timestamp },
            })),
          }
        : {}),
    };
  }

  /** `count` events from `position`: from the log in Redis, else (trimmed) from the archive. */
  private async eventsAt(position: string, count: number): Promise<LoggedEvent[]> {
    const items = await this.log.logAfter(entryBefore(position), count);
    return items
      .filter((item) => compareEntryIds(item.id, position) >= 0)
      .map(({ id, event }) => ({
        entryId: id,
        streamId: event.streamId,
        version: event.version,
        type: event.type,
        data: event.data,
        timestamp: event.metadata.timestamp,
      }));
  }
}
