/**
 * A query's `minPosition` read as the partition it names (DESIGN.md §8): with PARTITIONS > 1 a
 * globalPosition is `<p>:<entry id>`, and read-your-writes waits for partition p's checkpoint
 * only. With one partition a position is today's (`<ms>-<seq>`, or a memory store's count).
 */
import { ValidationError } from '../errors.js';

const PARTITIONED = /^(\d{1,3}):(\d{1,20}-\d{1,20})$/;

/** The partition `position` names among `count`; a bad or out-of-range one is a ValidationError. */
export function partitionOfPosition(position: string, count: number, what = 'minPosition'): number {
  if (count === 1) {
    if (/^\d{1,20}(-\d{1,20})?$/.test(position)) return 0;
    throw refused(what, position, 'a globalPosition this server returned, e.g. 1733222222222-0');
  }
  const match = PARTITIONED.exec(position);
  if (!match) {
    throw refused(
      what,
      position,
      `with PARTITIONS=${count} a globalPosition reads <partition>:<entry id>, e.g. 3:1733222222222-0; pass one a command result gave you`,
    );
  }
  const partition = Number(match[1]);
  if (partition >= count) {
    throw refused(
      what,
      position,
      `it names partition ${partition}, but there are ${count} (0 to ${count - 1}); pass a globalPosition this server returned`,
    );
  }
  return partition;
}

/** The entry id inside a partition's position (`3:1733-0` → `1733-0`); others unchanged. */
export function entryIdOf(position: string): string {
  return position.slice(position.indexOf(':') + 1);
}

function refused(what: string, position: string, fix: string): ValidationError {
  return new ValidationError(`${what} ${JSON.stringify(position)} is not a position: ${fix}`, [
    { path: what, message: 'not a globalPosition of this server' },
  ]);
}
