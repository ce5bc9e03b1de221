import { expect } from 'chai';
import pg from 'pg';
import { archiveThroughput } from '../../scripts/bench/archive-throughput.js';
import { describeWithPostgres, testPostgresUrl } from '../support/postgres.js';

async function databases(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
  await client.end();
  return rows.map((r) => r.datname).filter((n) => n.startsWith('sc_throughput_'));
}

describeWithPostgres('bench: archive throughput vs a bare INSERT', () => {
  it('writes the same rows both ways, counts both, and drops its database', async () => {
    const server = (await testPostgresUrl()) as string;
    const before = await databases(server);
    const result = await archiveThroughput(server, 2_000, 500);
    process.stdout.write(
      `      2 000 rows in batches of 500: archive ${Math.round(result.archiveRowsPerS)} rows/s, bare INSERT ${Math.round(result.bareInsertRowsPerS)} rows/s, ratio ${result.ratio.toFixed(2)}\n`,
    );
    expect(result.rows).to.equal(2_000);
    expect(result.ratio).to.equal(result.archiveRowsPerS / result.bareInsertRowsPerS);
    expect(await databases(server)).to.deep.equal(before);
  });
});
