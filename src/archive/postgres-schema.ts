/**
 * The archive's PostgreSQL schema, created and migrated by the instance (DESIGN.md §9): versioned
 * migrations applied in order, each once, under an advisory lock so that instances starting
 * together do not race; running it again changes nothing.
 *
 * - `archive_events`: one row per event, keyed by (partition, log entry id as two bigints, so that
 *   the key orders like the log), unique (stream id, version); data and metadata as jsonb.
 * - `archive_checkpoints`: per partition the newest archived entry id and the newest fence.
 * - `archive_write(…)`: one batch, fenced, skipping what is at or below the checkpoint, with the
 *   checkpoint, in one statement (one round trip, one transaction).
 */
import type pg from 'pg';

/** The migrations in order; append only, never edit one that shipped. */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE archive_events (
  partition smallint NOT NULL,
  entry_ms bigint NOT NULL,
  entry_seq bigint NOT NULL,
  stream_id text NOT NULL,
  version integer NOT NULL,
  event_id text NOT NULL,
  type text NOT NULL,
  schema_version integer NOT NULL,
  data json NOT NULL,
  metadata json NOT NULL,
  PRIMARY KEY (partition, entry_ms, entry_seq),
  UNIQUE (stream_id, version)
);
CREATE TABLE archive_checkpoints (
  partition smallint PRIMARY KEY,
  entry_ms bigint NOT NULL,
  entry_seq bigint NOT NULL,
  fence bigint NOT NULL
);
CREATE FUNCTION archive_write(
  p_partition smallint, p_fence bigint, p_ms bigint[], p_seq bigint[], p_stream text[],
  p_version integer[], p_id text[], p_type text[], p_schema integer[], p_data text[],
  p_metadata text[]
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  cp archive_checkpoints%ROWTYPE;
  n integer := cardinality(p_ms);
BEGIN
  INSERT INTO archive_checkpoints VALUES (p_partition, 0, 0, 0) ON CONFLICT DO NOTHING;
  SELECT * INTO cp FROM archive_checkpoints WHERE partition = p_partition FOR UPDATE;
  IF cp.fence > p_fence THEN RETURN false; END IF;
  INSERT INTO archive_events
    SELECT p_partition, u.ms, u.seq, u.stream, u.version, u.id, u.type, u.schema,
           u.data::json, u.metadata::json
    FROM unnest(p_ms, p_seq, p_stream, p_version, p_id, p_type, p_schema, p_data, p_metadata)
      AS u(ms, seq, stream, version, id, type, schema, data, metadata)
    WHERE (u.ms, u.seq) > (cp.entry_ms, cp.entry_seq)
    ORDER BY u.ms, u.seq;
  IF n > 0 AND (p_ms[n], p_seq[n]) > (cp.entry_ms, cp.entry_seq) THEN
    UPDATE archive_checkpoints SET entry_ms = p_ms[n], entry_seq = p_seq[n], fence = p_fence
      WHERE partition = p_partition;
  ELSE
    UPDATE archive_checkpoints SET fence = p_fence WHERE partition = p_partition;
  END IF;
  RETURN true;
END $$;`,
  },
];

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** Any number, the same in every instance: the advisory lock migrations take. */
const MIGRATION_LOCK = 0x5c_a7c1;

/**
 * Brings the database to `SCHEMA_VERSION`; returns the versions it applied (none when current). A
 * database newer than this code is refused with the fix (run the newer release).
 */
export async function migrate(client: pg.ClientBase): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS archive_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM archive_schema',
    );
    const current = rows[0]?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `archive schema is at version ${current}, newer than this release knows (${SCHEMA_VERSION}): run a release at least as new as the one that migrated it`,
      );
    }
    const applied: number[] = [];
    for (const migration of MIGRATIONS.filter((m) => m.version > current)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO archive_schema (version) VALUES ($1)', [migration.version]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
