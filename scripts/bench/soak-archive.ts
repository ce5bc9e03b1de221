/**
 * What the `soak` benchmark asks of the PostgreSQL archive: how far a partition is archived and
 * how many events it holds (read back in order through the adapter). The archive's throughput
 * against a bare multi-row INSERT is archive-throughput.ts's.
 */
import { compareEntryIds } from '../../src/archive/event-archive.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';

/** The archive as the soak reads it. */
export interface SoakArchive {
  /** The newest entry id archived for partition 0 (`0-0` before the first). */
  archivedUpTo(): Promise<string>;
  /** Events archived for partition 0, counted by reading the archive (throws if out of order). */
  count(): Promise<number>;
  close(): Promise<void>;
}

export async function openSoakArchive(archiveUrl: string): Promise<SoakArchive> {
  const archive = new PostgresEventArchive({ url: archiveUrl });
  return {
    archivedUpTo: () => archive.archivedUpTo(0),
    async count() {
      let n = 0;
      let after = '0-0';
      for (;;) {
        const page = await archive.readLog(0, after, 5000);
        for (const e of page) {
          if (compareEntryIds(e.entryId, after) <= 0) {
            throw new Error(`soak: archive entry ${e.entryId} after ${after}: out of order`);
          }
          after = e.entryId;
        }
        n += page.length;
        if (page.length === 0) return n;
      }
    },
    close: () => archive.close(),
  };
}
