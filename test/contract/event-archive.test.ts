import { expect } from 'chai';
import pg from 'pg';
import { compareEntryIds } from '../../src/archive/event-archive.js';
import { MemoryEventArchive } from '../../src/archive/memory-event-archive.js';
import { PostgresEventArchive, withoutPassword } from '../../src/archive/postgres-event-archive.js';
import { SCHEMA_VERSION } from '../../src/archive/postgres-schema.js';
import {
  createTestDatabase,
  describeWithPostgres,
  type TestDatabase,
} from '../support/postgres.js';
import { archived, describeEventArchiveContract } from './event-archive.contract.js';

describeEventArchiveContract('memory', async () => ({
  archive: new MemoryEventArchive(),
  cleanup: async () => {},
}));

describeWithPostgres('PostgreSQL event archive', () => {
  describeEventArchiveContract('postgres', async () => {
    const db = await createTestDatabase('archive');
    const archive = new PostgresEventArchive({ url: db.url });
    return {
      archive,
      cleanup: async () => {
        await archive.close();
        await db.drop();
      },
    };
  });

  describe('schema', () => {
    let db: TestDatabase;
    beforeEach(async () => {
      db = await createTestDatabase('schema');
    });
    afterEach(() => db.drop());

    it('is migrated once by instances starting together, and again changes nothing', async () => {
      const migrated: number[][] = [];
      const archives = Array.from(
        { length: 3 },
        () => new PostgresEventArchive({ url: db.url, onMigrated: (v) => migrated.push([...v]) }),
      );
      await Promise.all(archives.map((a) => a.ready()));
      const later = new PostgresEventArchive({
        url: db.url,
        onMigrated: (v) => migrated.push([...v]),
      });
      await later.ready();
      expect(migrated, 'one instance applied the versions').to.deep.equal([
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      ]);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query('SELECT version FROM archive_schema ORDER BY version');
      await client.end();
      expect(rows.map((r) => r.version)).to.deep.equal(migrated[0]);
      await Promise.all([...archives, later].map((a) => a.close()));
    });

    it('refuses a database migrated by a newer release, naming the fix', async () => {
      const first = new PostgresEventArchive({ url: db.url });
      await first.ready();
      await first.close();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      await client.query('INSERT INTO archive_schema (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
      await client.end();
      const archive = new PostgresEventArchive({ url: db.url });
      const error = await archive.archivedUpTo(0).catch((e: Error) => e);
      expect(String(error)).to.match(
        /newer than this release knows.*run a release at least as new/,
      );
      await archive.close();
    });
  });

  it('names the server but never the password when it cannot connect', async () => {
    const url = 'postgres://archiver:s3cr3t-pw@127.0.0.1:1/none';
    const archive = new PostgresEventArchive({ url });
    const error = (await archive.archivedUpTo(0).catch((e: Error) => e)) as Error;
    expect(error.message).to.contain('postgres://archiver:***@127.0.0.1:1/none');
    expect(error.message).to.contain('check ARCHIVE_URL');
    expect(error.message).to.not.contain('s3cr3t');
    expect(withoutPassword(url)).to.not.contain('s3cr3t');
    await archive.close();
  });

  it('a new leader taking over while the old one still writes: every event once, in order', async () => {
    const db = await createTestDatabase('race');
    const archive = new PostgresEventArchive({ url: db.url });
    const events = Array.from({ length: 100 }, (_, i) =>
      archived(0, 1000 + i, `s${i % 7}`, Math.floor(i / 7) + 1),
    );
    const after = (upTo: string) =>
      events.filter((e) => compareEntryIds(e.entryId, upTo) > 0).slice(0, 10);
    try {
      for (let i = 0; i < 3; i += 1)
        await archive.write(0, 1, after(await archive.archivedUpTo(0)));
      const newStart = await archive.archivedUpTo(0); // the new leader (fence 2) reads its start
      expect(await archive.write(0, 1, after(newStart)), 'the old leader, not yet fenced').to.equal(
        true,
      );
      expect(await archive.write(0, 2, after(newStart)), 'the new one, overlapping').to.equal(true);
      expect(await archive.write(0, 1, after(await archive.archivedUpTo(0))), 'old').to.equal(
        false,
      );
      let upTo = await archive.archivedUpTo(0);
      for (let batch = after(upTo); batch.length > 0; batch = after(upTo)) {
        expect(await archive.write(0, 2, batch)).to.equal(true);
        upTo = await archive.archivedUpTo(0);
      }
      const log = await archive.readLog(0, '0-0', 1000);
      expect(log.map((e) => e.entryId)).to.deep.equal(events.map((e) => e.entryId));
    } finally {
      await archive.close();
      await db.drop();
    }
  });
});
