/**
 * Retention in a running instance (npm start) on the test Redis: LOG_RETENTION_MS without an
 * archive says at start-up that older history is deleted for good, then trims the log to what is
 * younger (once projected), and events.readAll goes on from what Redis holds.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { RpcClient } from '../../src/client/index.js';
import { keysFor } from '../../src/events/keys.js';
import {
  createTestDatabase,
  describeWithPostgres,
  type TestDatabase,
} from '../support/postgres.js';
import {
  describeWithRedis,
  type QuietInstance,
  startQuietInstance,
  testRedisUrl,
} from '../support/redis.js';

/** Runs `npm run replay -- trainer-positions` (its script) as its own process. */
function runReplay(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/replay.ts', 'trainer-positions'],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const add = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeWithRedis('retention in an instance (LOG_RETENTION_MS without an archive)', function () {
  this.timeout(60_000);
  let instance: QuietInstance;
  before(async () => {
    instance = await startQuietInstance('ret', { LOG_RETENTION_MS: '1000' });
  });
  after(() => instance.stop());

  it('warns at start-up, then trims the log to what is younger than LOG_RETENTION_MS', async () => {
    const warning = instance.app
      .output()
      .split('\n')
      .find((line) => line.includes('LOG_RETENTION_MS=1000 without ARCHIVE_URL'));
    expect(warning, 'the start-up warning').to.match(/deleted from Redis for good/);
    const client = new RpcClient({ url: instance.app.url, headers: { 'X-User-Id': 'ash' } });
    for (let i = 0; i < 6; i += 1) {
      await client.call('trainer.move', {
        action: i % 2 ? 'stop' : 'start',
        directionX: 1,
        directionY: 0,
      });
    }
    const keys = keysFor(instance.prefix);
    expect(await instance.redis.xlen(keys.all)).to.equal(6);
    const deadline = Date.now() + 20_000;
    let length = 6;
    while (length > 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      length = await instance.redis.xlen(keys.all);
    }
    expect(length, 'the newest entry stays').to.equal(1);
    const admin = new RpcClient({
      url: instance.app.url,
      headers: { 'X-User-Id': 'root', 'X-User-Roles': 'admin' },
    });
    const page = (await admin.call('events.readAll', { limit: 100 })) as { events: unknown[] };
    expect(page.events).to.have.length(1);
    const stream = (await client.call('events.read', { streamId: 'trainer-ash' })) as {
      events: { version: number }[];
    };
    // no snapshots yet: the entity stream keeps every version
    expect(stream.events.map((e) => e.version)).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });
});

describeWithRedis('retention in an instance with the archive on PostgreSQL', function () {
  this.timeout(120_000);
  describeWithPostgres('ARCHIVE_URL and LOG_RETENTION_MS', () => {
    let db: TestDatabase;
    let instance: QuietInstance;
    before(async () => {
      db = await createTestDatabase('retinst');
      instance = await startQuietInstance('reta', {
        ARCHIVE_URL: db.url,
        LOG_RETENTION_MS: '1000',
        SNAPSHOT_EVERY: '5',
      });
    });
    after(async () => {
      await instance?.stop();
      await db?.drop();
    });

    it('trims Redis to the tail; reads and npm run replay still see every event once', async () => {
      const moves = 24;
      const clients = ['ash', 'misty'].map(
        (user) => new RpcClient({ url: instance.app.url, headers: { 'X-User-Id': user } }),
      );
      for (let i = 0; i < moves; i += 1) {
        const action = Math.floor(i / 2) % 2 ? 'stop' : 'start';
        await clients[i % 2]!.call('trainer.move', { action, directionX: 1, directionY: 0 });
      }
      const keys = keysFor(instance.prefix);
      await until('the log trimmed to its newest entry', async () => {
        return (await instance.redis.xlen(keys.all)) === 1;
      });
      await until('ash trimmed below its snapshot', async () => {
        return (await instance.redis.xlen(keys.stream('trainer-ash'))) < moves / 2;
      });
      const inRedis = await instance.redis.xlen(keys.stream('trainer-ash'));
      const admin = new RpcClient({
        url: instance.app.url,
        headers: { 'X-User-Id': 'root', 'X-User-Roles': 'admin' },
      });
      const all: { globalPosition: string; streamId: string; version: number }[] = [];
      let after = '0';
      for (;;) {
        const page = (await admin.call('events.readAll', { afterPosition: after, limit: 5 })) as {
          events: typeof all;
          nextPosition: string;
          isEnd: boolean;
        };
        all.push(...page.events);
        after = page.nextPosition;
        if (page.isEnd) break;
      }
      expect(all).to.have.length(moves);
      const positions = all.map((e) => e.globalPosition);
      expect([...positions].sort()).to.deep.equal(positions);
      expect(new Set(positions).size).to.equal(moves);
      const ash = (await clients[0]!.call('events.read', {
        streamId: 'trainer-ash',
        limit: 100,
      })) as {
        events: { version: number }[];
      };
      expect(ash.events.map((e) => e.version)).to.deep.equal(
        Array.from({ length: moves / 2 }, (_, i) => i + 1),
      );
      console.log(
        `      ${moves} moves; Redis holds 1 log entry and ${inRedis} of ash's ${moves / 2} events`,
      );
      const before = await clients[0]!.call('trainer.get', { trainerId: 'ash' });
      const replay = await runReplay({
        REDIS_URL: testRedisUrl(),
        KEY_PREFIX: instance.prefix,
        ARCHIVE_URL: db.url,
        SECRET_KEY: randomBytes(32).toString('base64'),
      });
      expect(replay.code, replay.output).to.equal(0);
      expect(await clients[0]!.call('trainer.get', { trainerId: 'ash' })).to.deep.equal(before);
      // the instance still moves ash from its snapshot and the tail
      const moved = (await clients[0]!.call('trainer.move', {
        action: 'start',
        directionX: 0,
        directionY: 1,
      })) as { version: number };
      expect(moved.version).to.equal(moves / 2 + 1);
    });
  });
});
