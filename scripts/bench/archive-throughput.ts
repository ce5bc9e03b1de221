/**
 * The archive's write throughput against a bare multi-row INSERT of the same rows (issue 15, for
 * `npm run bench -- soak`): in a database of its own on the given server, the same trainer-move
 * rows go in batches through `PostgresEventArchive.write` (fence check, skip below the checkpoint,
 * rows and checkpoint in one transaction) and through a plain `INSERT … VALUES (…), (…)` into a
 * copy of the table (same columns, keys and indexes). Batches alternate between the two so both
 * see the same server load; both tables are counted before the database is dropped.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { ArchivedEvent } from '../../src/archive/event-archive.js';
import { PostgresEventArchive } from '../../src/archive/postgres-event-archive.js';

/** The archive's rate against a bare multi-row INSERT of the same rows, same run. */
export interface ArchiveThroughput {
  readonly rows: number;
  /** Rows per batch (ARCHIVE_BATCH's default). */
  readonly batch: number;
  readonly archiveRowsPerS: number;
  readonly bareInsertRowsPerS: number;
  /** archive / bare (the issue's target: ≥ 0.5). */
  readonly ratio: number;
}

const COLUMNS = [
  'partition',
  'entry_ms',
  'entry_seq',
  'stream_id',
  'version',
  'event_id',
  'type',
  'schema_version',
  'data',
  'metadata',
] as const;

/** `rows` trainer moves over 50 trainers, as the archiver hands them over. */
function moves(rows: number): ArchivedEvent[] {
  const base = Date.now();
  return Array.from({ length: rows }, (_, i) => {
    const entryId = `${base + Math.floor(i / 4)}-${i % 4}`;
    const streamId = `trainer-t${i % 50}`;
    return {
      partition: 0,
      entryId,
      event: {
        id: randomUUID(),
        type: 'TrainerMoved',
        schemaVersion: 1,
        streamId,
        version: Math.floor(i / 50) + 1,
        globalPosition: entryId,
        data: { action: 'start', x: i * 0.5, y: i * 0.25, directionX: 0.6, directionY: 0.8 },
        metadata: {
          commandId: randomUUID(),
          correlationId: randomUUID(),
          userId: `t${i % 50}`,
          serverId: 'bench',
          timestamp: new Date(base + i).toISOString(),
        },
      },
    };
  });
}

function bareRow(e: ArchivedEvent): unknown[] {
  const [ms, seq] = e.entryId.split('-');
  const { event } = e;
  return [
    e.partition,
    ms,
    seq,
    event.streamId,
    event.version,
    event.id,
    event.type,
    event.schemaVersion,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ];
}

async function bareInsert(client: pg.ClientBase, batch: readonly ArchivedEvent[]): Promise<void> {
  const values = batch.flatMap(bareRow);
  const tuples = batch.map((_, r) => {
    const at = r * COLUMNS.length;
    return `(${COLUMNS.map((_, c) => `$${at + c + 1}`).join(', ')})`;
  });
  await client.query(
    `INSERT INTO bare_events (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`,
    values,
  );
}

async function count(client: pg.ClientBase, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(rows[0]?.n);
}

/**
 * Archives `rows` events through the adapter and through a bare INSERT, `batch` rows at a time, in
 * a database it creates on `serverUrl` (any database of the server; it is only used to create and
 * drop its own).
 */
export async function archiveThroughput(
  serverUrl: string,
  rows: number,
  batch = 500,
): Promise<ArchiveThroughput> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `sc_throughput_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const archive = new PostgresEventArchive({ url: url.toString(), maxConnections: 1 });
  const bare = new pg.Client({ connectionString: url.toString() });
  try {
    await archive.ready();
    await bare.connect();
    await bare.query('CREATE TABLE bare_events (LIKE archive_events INCLUDING ALL)');
    const events = moves(rows);
    let archiveMs = 0;
    let bareMs = 0;
    for (let i = 0; i < events.length; i += batch) {
      const slice = events.slice(i, i + batch);
      let start = performance.now();
      if (!(await archive.write(0, 1, slice))) throw new Error('throughput: archive write fenced');
      archiveMs += performance.now() - start;
      start = performance.now();
      await bareInsert(bare, slice);
      bareMs += performance.now() - start;
    }
    const [archived, inserted] = [
      await count(bare, 'archive_events'),
      await count(bare, 'bare_events'),
    ];
    if (archived !== rows || inserted !== rows) {
      throw new Error(`throughput: ${archived} archived and ${inserted} inserted of ${rows} rows`);
    }
    const archiveRowsPerS = (rows / archiveMs) * 1000;
    const bareInsertRowsPerS = (rows / bareMs) * 1000;
    return {
      rows,
      batch,
      archiveRowsPerS,
      bareInsertRowsPerS,
      ratio: archiveRowsPerS / bareInsertRowsPerS,
    };
  } finally {
    await bare.end().catch(() => {});
    await archive.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
