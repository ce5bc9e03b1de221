import { expect } from 'chai';
import pg from 'pg';
import {
  createTestDatabase,
  describeWithPostgres,
  type PostgresServer,
  postgresAnswers,
  postgresBinary,
  skipWhenMissing,
  startPostgresServer,
  testPostgresUrl,
} from '../support/postgres.js';

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describeWithPostgres('test support: PostgreSQL', () => {
  it('creates a database of its own and drops only that one', async () => {
    const server = (await testPostgresUrl()) as string;
    const a = await createTestDatabase('support');
    const b = await createTestDatabase('support');
    expect(a.name).to.not.equal(b.name);
    await query(a.url, 'CREATE TABLE t (x int)');
    await a.drop();
    const names = await query(server, 'SELECT datname FROM pg_database');
    const left = names.rows.map((r) => r.datname as string);
    expect(left).to.not.include(a.name);
    expect(left).to.include(b.name);
    await b.drop();
  });

  describe('a private, restartable server', () => {
    let server: PostgresServer;
    before(async function () {
      skipWhenMissing(
        this,
        'a private PostgreSQL server',
        postgresBinary('initdb')
          ? undefined
          : 'initdb is not installed (apt-get install postgresql)',
      );
      this.timeout(60_000);
      server = await startPostgresServer();
    });
    after(async () => server?.destroy());

    it('keeps its data across a clean stop and a crash (immediate stop)', async function () {
      this.timeout(60_000);
      const db = await createTestDatabase('restart', server.url);
      await query(db.url, 'CREATE TABLE t (x int); INSERT INTO t VALUES (1)');
      await server.stop('fast');
      expect(await postgresAnswers(server.url, 500)).to.equal(false);
      await server.start();
      await query(db.url, 'INSERT INTO t VALUES (2)');
      await server.stop('immediate');
      expect(server.pid()).to.equal(undefined);
      await server.start();
      const rows = await query(db.url, 'SELECT x FROM t ORDER BY x');
      expect(rows.rows.map((r) => r.x)).to.deep.equal([1, 2]);
      await db.drop();
    });
  });
});
