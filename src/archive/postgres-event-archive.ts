/**
 * The `EventArchive` on PostgreSQL (`ARCHIVE_URL`, through `pg`): the schema of postgres-schema.ts,
 * migrated before the first use (and again after a failed attempt). A batch is one call of
 * `archive_write`: fence check, events and checkpoint in one transaction, so an event is archived
 * exactly once whoever dies when. Contract: test/contract/event-archive.
 */
import pg from 'pg';
import { closeOnce } from '../events/close-once.js';
import type { RecordedEvent } from '../events/envelope.js';
import {
  type ArchivedEvent,
  type ArchiveStreamRead,
  checkArchiveBatch,
  checkEntryId,
  type EventArchive,
} from './event-archive.js';
import { migrate } from './postgres-schema.js';

/** How the archive connects. */
export interface PostgresArchiveOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Connections at most (default 4: one archiver per partition writes, reads are short). */
  readonly maxConnections?: number;
  /** Hears a connection's error (PostgreSQL restarted, network); the next query reconnects. */
  readonly onError?: (error: Error) => void;
  /** Hears the schema versions a migration applied (for the start-up log). */
  readonly onMigrated?: (versions: readonly number[]) => void;
}

interface EventRow {
  partition: number;
  entry_ms: string;
  entry_seq: string;
  stream_id: string;
  version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: RecordedEvent['data'];
  metadata: RecordedEvent['metadata'];
}

const COLUMNS =
  'partition, entry_ms, entry_seq, stream_id, version, event_id, type, schema_version, data, metadata';

/** `url` with its password replaced by `***`, for logs and errors. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

function toArchived(row: EventRow): ArchivedEvent {
  const entryId = `${row.entry_ms}-${row.entry_seq}`;
  return {
    partition: row.partition,
    entryId,
    event: {
      id: row.event_id,
      type: row.type,
      schemaVersion: row.schema_version,
      streamId: row.stream_id,
      version: row.version,
      globalPosition: entryId,
      data: row.data,
      metadata: row.metadata,
    },
  };
}

function splitEntryId(entryId: string): [string, string] {
  const [ms = '0', seq = '0'] = entryId.split('-');
  return [ms, seq];
}

export class PostgresEventArchive implements EventArchive {
  private readonly pool: pg.Pool;
  private schema?: Promise<void>;

  constructor(private readonly options: PostgresArchiveOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 4,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 5_000,
    });
    this.pool.on('error', (error) => options.onError?.(error));
  }

  /** Migrates once per instance (again after a failure); every operation waits for it. */
  ready(): Promise<void> {
    this.schema ??= this.migrateOnce().catch((error: unknown) => {
      this.schema = undefined;
      throw this.named(error);
    });
    return this.schema;
  }

  private async migrateOnce(): Promise<void> {
    const client = await this.pool.connect();
    try {
      const applied = await migrate(client);
      if (applied.length > 0) this.options.onMigrated?.(applied);
    } finally {
      client.release();
    }
  }

  /** An error that names the archive's server (never its password) and what to check. */
  private named(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    return new Error(
      `archive PostgreSQL at ${withoutPassword(this.options.url)}: ${message} (check ARCHIVE_URL and that the server runs)`,
      { cause: error },
    );
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    values: readonly unknown[],
  ): Promise<R[]> {
    await this.ready();
    try {
      return (await this.pool.query<R>(sql, [...values])).rows;
    } catch (error) {
      throw this.named(error);
    }
  }

  async write(
    partition: number,
    fence: number,
    events: readonly ArchivedEvent[],
  ): Promise<boolean> {
    checkArchiveBatch(partition, events);
    const ids = events.map((e) => splitEntryId(e.entryId));
    const rows = await this.writeRows(partition, fence, ids, events);
    return rows[0]?.ok === true;
  }

  private async writeRows(
    partition: number,
    fence: number,
    ids: readonly [string, string][],
    events: readonly ArchivedEvent[],
  ): Promise<{ ok: boolean }[]> {
    return this.query<{ ok: boolean }>(
      'SELECT archive_write($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS ok',
      [
        partition,
        fence,
        ids.map(([ms]) => ms),
        ids.map(([, seq]) => seq),
        events.map((e) => e.event.streamId),
        events.map((e) => e.event.version),
        events.map((e) => e.event.id),
        events.map((e) => e.event.type),
        events.map((e) => e.event.schemaVersion),
        events.map((e) => JSON.stringify(e.event.data)),
        events.map((e) => JSON.stringify(e.event.metadata)),
      ],
    ).catch((error: unknown) => {
      throw this.duplicate(error) ?? error;
    });
  }

  /** A unique violation of (stream id, version) named as the memory archive names it. */
  private duplicate(error: unknown): Error | undefined {
    const cause = (error as Error).cause as { code?: string; detail?: string } | undefined;
    if (cause?.code !== '23505') return undefined;
    return new Error(
      `archive: a stream version of the batch is archived already at another entry (${cause.detail ?? 'unique violation'}); the log holds each version once, so the archive was written from another log`,
    );
  }

  async archivedUpTo(partition: number): Promise<string> {
    const rows = await this.query<{ entry_ms: string; entry_seq: string }>(
      'SELECT entry_ms, entry_seq FROM archive_checkpoints WHERE partition = $1',
      [partition],
    );
    const row = rows[0];
    return row ? `${row.entry_ms}-${row.entry_seq}` : '0-0';
  }

  /** Every partition's newest archived entry id (partitions never archived are absent). */
  async checkpoints(): Promise<Map<number, string>> {
    const rows = await this.query<{ partition: number; entry_ms: string; entry_seq: string }>(
      'SELECT partition, entry_ms, entry_seq FROM archive_checkpoints',
      [],
    );
    return new Map(rows.map((r) => [r.partition, `${r.entry_ms}-${r.entry_seq}`]));
  }

  async readStream(streamId: string, read: ArchiveStreamRead): Promise<readonly RecordedEvent[]> {
    const forward = read.direction === 'forward';
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM archive_events WHERE stream_id = $1 AND version ${forward ? '>=' : '<='} $2
       ORDER BY version ${forward ? 'ASC' : 'DESC'} LIMIT $3`,
      [streamId, read.fromVersion, read.limit],
    );
    return rows.map((row) => toArchived(row).event);
  }

  async readLog(
    partition: number,
    after: string,
    limit: number,
  ): Promise<readonly ArchivedEvent[]> {
    checkEntryId(after, 'after');
    const [ms, seq] = splitEntryId(after);
    const rows = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM archive_events
       WHERE partition = $1 AND (entry_ms, entry_seq) > ($2, $3)
       ORDER BY entry_ms, entry_seq LIMIT $4`,
      [partition, ms, seq, limit],
    );
    return rows.map(toArchived);
  }

  /** Ends its connections (once; closing again does nothing). */
  readonly close = closeOnce(async (): Promise<void> => {
    await this.pool.end();
  });
}
