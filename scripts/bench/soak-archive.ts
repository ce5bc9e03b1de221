/**
 * What the `soak` benchmark asks of the PostgreSQL archive: how far a partition is archived, how
 * many events it holds, and the archive's throughput against a bare multi-row INSERT of the same
 * rows. STAND-IN until p-archive (the PostgreSQL adapter and its throughput function) is merged:
 * `openSoakArchive` and `archiveThroughput` then call the adapter; here they say they cannot.
 */

/** The archive as the soak reads it. */
export interface SoakArchive {
  /** The newest entry id archived for partition 0 (`0-0` before the first). */
  archivedUpTo(): Promise<string>;
  /** Events archived for partition 0, counted by reading the archive. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/** The archive's rate against a bare multi-row INSERT of the same rows, same run. */
export interface ArchiveThroughput {
  readonly rows: number;
  readonly archiveRowsPerS: number;
  readonly bareInsertRowsPerS: number;
  readonly ratio: number;
}

const MISSING = 'the PostgreSQL archive adapter (branch p-archive) is not merged into this branch';

export async function openSoakArchive(_archiveUrl: string): Promise<SoakArchive> {
  throw new Error(`soak: ${MISSING}`);
}

export async function archiveThroughput(
  _serverUrl: string,
  _rows: number,
): Promise<ArchiveThroughput> {
  throw new Error(`soak: ${MISSING}`);
}
