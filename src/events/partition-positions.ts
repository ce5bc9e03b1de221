/**
 * Global positions with partitions (DESIGN.md §8): with PARTITIONS > 1 an event's `globalPosition`
 * is `<p>:<entry id>` — its partition and its place in that partition's log (`3:1733222222222-0`).
 * With one partition it stays the bare entry id of today. This module turns a partition store's
 * entry ids into positions and back; the whole-log cursor over every partition is log-cursor.ts.
 */
import { ValidationError } from '../errors.js';
import { START } from './event-store.js';

const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
const PARTITION_POSITION = /^(\d{1,3}):(\d{1,20}-\d{1,20})$/;

/** A position split into its partition and entry id. */
export interface PartitionPosition {
  readonly partition: number;
  readonly id: string;
}

/** The position `<p>:<id>` of entry `id` of partition `p`. */
export function partitionPosition(partition: number, id: string): string {
  return `${partition}:${id}`;
}

/** `<p>:<ms>-<seq>` split, or undefined when `position` does not have that form. */
export function parsePartitionPosition(position: string): PartitionPosition | undefined {
  const match = PARTITION_POSITION.exec(position);
  return match ? { partition: Number(match[1]), id: match[2]! } : undefined;
}

function invalid(position: unknown, expected: string): ValidationError {
  return new ValidationError(
    `invalid position ${JSON.stringify(position)}: pass a globalPosition or nextPosition you were given${expected}, or "0"`,
    [{ path: 'after', message: 'invalid position' }],
  );
}

/**
 * How one Redis store writes its entry ids as positions and reads them back: bare ids without a
 * partition number (PARTITIONS=1, today's format), `<p>:<id>` with one.
 */
export class PositionFormat {
  /** @param partition the store's partition number; none with a single partition. */
  constructor(readonly partition?: number) {}

  /** The position of an entry id of this store's log. */
  out(id: string): string {
    return this.partition === undefined ? id : partitionPosition(this.partition, id);
  }

  /**
   * The entry id of a position this store handed out (`START` → `0-0`); `ValidationError` for
   * anything else, including another partition's position.
   */
  in(position: string | undefined): string {
    const value = position ?? START;
    if (value === START) return '0-0';
    if (typeof value !== 'string') throw invalid(value, '');
    if (this.partition === undefined) {
      if (!ENTRY_ID.test(value)) throw invalid(value, '');
      return value;
    }
    const parsed = parsePartitionPosition(value);
    if (!parsed || parsed.partition !== this.partition) {
      throw invalid(value, ` of partition ${this.partition} (<p>:<id>)`);
    }
    return parsed.id;
  }
}
