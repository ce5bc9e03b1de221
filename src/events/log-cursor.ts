/**
 * The whole-log cursor with partitions (DESIGN.md §8): the vector of every partition's position,
 * so a reader of the whole log continues each partition exactly where it left it. Clients treat it
 * as opaque; the format is ours to change (with a new marker).
 *
 * Format: `<P>~<M>~<e_0>.<e_1>.….<e_{P-1}>` where P is PARTITIONS (decimal), M is the newest
 * millisecond among the entries (base 36), and `e_p` is partition p's last entry id: empty for
 * the partition's start, else `M - ms` in base 36, followed by `-<seq>` (base 36) when seq > 0.
 * Deltas against the newest keep a cursor of busy partitions short (a few characters each; an idle
 * partition about 9; at most 23 with the largest sequence number, so under 6 KB at 256). Every partition at its start is `"0"`
 * (START), so `"0"` reads from the beginning as it does with one partition.
 *
 * Across partitions the log is merged by time: by an entry's millisecond, then by partition number
 * (each partition keeps its own order). A single event's `globalPosition` `<p>:<ms>-<seq>` is also
 * accepted where a cursor is: it stands for the merged log up to and including that event.
 */
import { ValidationError } from '../errors.js';
import { START } from './event-store.js';
import { parsePartitionPosition } from './partition-positions.js';

/** An entry id split into its millisecond and sequence number. */
export interface EntryTime {
  readonly ms: number;
  readonly seq: bigint;
}

/** The largest sequence number of a stream entry id. */
const MAX_SEQ = 18446744073709551615n;
const CURSOR = /^(\d{1,3})~([0-9a-z]{1,11})~([0-9a-z.-]*)$/;
const ENTRY = /^([0-9a-z]{1,11})(?:-([0-9a-z]{1,13}))?$/;
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;

function badCursor(cursor: string, why: string): ValidationError {
  const shown = cursor.length > 80 ? `${cursor.slice(0, 80)}…` : cursor;
  return new ValidationError(
    `invalid position ${JSON.stringify(shown)}: ${why}; pass a nextPosition or globalPosition you were given, or "0"`,
    [{ path: 'after', message: why }],
  );
}

/** Splits an entry id `<ms>-<seq>`; undefined when it is not one (or its ms is not a safe integer). */
export function entryTime(id: string): EntryTime | undefined {
  const match = ENTRY_ID.exec(id);
  if (!match) return undefined;
  const ms = Number(match[1]);
  if (!Number.isSafeInteger(ms)) return undefined;
  return { ms, seq: BigInt(match[2]!) };
}

/** The entry id of an `EntryTime`. */
function idOf({ ms, seq }: EntryTime): string {
  return `${ms}-${seq}`;
}

/** Orders two entries of the merged log: by millisecond, then partition, then sequence. */
export function compareMerged(
  a: EntryTime,
  aPartition: number,
  b: EntryTime,
  bPartition: number,
): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (aPartition !== bPartition) return aPartition < bPartition ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

/** The cursor of every partition's last entry id (`0-0` for a partition's start). */
export function encodeCursor(ids: readonly string[]): string {
  const times = ids.map((id) => {
    const time = entryTime(id);
    if (!time) throw new Error(`not an entry id: ${id}`);
    return time;
  });
  if (times.every((t) => t.ms === 0 && t.seq === 0n)) return START;
  const newest = Math.max(...times.map((t) => t.ms));
  const entries = times.map((t) => {
    if (t.ms === 0 && t.seq === 0n) return '';
    const delta = (newest - t.ms).toString(36);
    return t.seq === 0n ? delta : `${delta}-${t.seq.toString(36)}`;
  });
  return `${ids.length}~${newest.toString(36)}~${entries.join('.')}`;
}

/**
 * Every partition's last entry id from a cursor, START, or one event's `globalPosition` (see the
 * module comment); `ValidationError` naming what is wrong otherwise, or when it was made for
 * another number of partitions.
 */
export function decodeCursor(cursor: string | undefined, partitions: number): string[] {
  const value = cursor ?? START;
  if (value === START) return new Array<string>(partitions).fill('0-0');
  if (typeof value !== 'string') throw badCursor(String(value), 'not a string');
  const position = parsePartitionPosition(value);
  if (position) return afterEvent(value, position.partition, position.id, partitions);
  const match = CURSOR.exec(value);
  if (!match) throw badCursor(value, 'not a cursor of this log');
  const count = Number(match[1]);
  if (count !== partitions) {
    throw badCursor(
      value,
      `it was made for ${count} partitions, this deployment has ${partitions} (PARTITIONS)`,
    );
  }
  const newest = Number.parseInt(match[2]!, 36);
  const entries = match[3]!.split('.');
  if (entries.length !== partitions) {
    throw badCursor(value, `it holds ${entries.length} positions, not ${partitions}`);
  }
  return entries.map((entry) => {
    if (entry === '') return '0-0';
    const parts = ENTRY.exec(entry);
    const ms = parts ? newest - Number.parseInt(parts[1]!, 36) : -1;
    if (!parts || ms < 0) throw badCursor(value, `a position in it is malformed (${entry})`);
    const seq = parts[2] === undefined ? 0n : parseBase36(parts[2]);
    if (seq > MAX_SEQ) throw badCursor(value, `a position in it is malformed (${entry})`);
    return idOf({ ms, seq });
  });
}

function parseBase36(text: string): bigint {
  let value = 0n;
  for (const char of text) value = value * 36n + BigInt(Number.parseInt(char, 36));
  return value;
}

/**
 * The vector of the merged log up to and including event `id` of partition `p`: partitions
 * before p up to the end of its millisecond, p up to the event, partitions after p up to the end
 * of the millisecond before.
 */
function afterEvent(position: string, p: number, id: string, partitions: number): string[] {
  const time = entryTime(id);
  if (p >= partitions)
    throw badCursor(position, `no partition ${p} here (PARTITIONS ${partitions})`);
  if (!time) throw badCursor(position, 'its entry id is out of range');
  const before = time.ms === 0 ? '0-0' : idOf({ ms: time.ms - 1, seq: MAX_SEQ });
  return Array.from({ length: partitions }, (_, q) =>
    q < p ? idOf({ ms: time.ms, seq: MAX_SEQ }) : q === p ? id : before,
  );
}
