import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { RpcCallError, RpcClient } from '../../src/client/index.js';
import { keysFor } from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { startMoves } from '../support/moves.js';
import { foldTrainers, listTrainers, waitCaughtUp } from '../support/projections.js';
import {
  clearPrefix,
  describeWithRedis,
  keysUnder,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

const NAME = 'trainer-positions';

/** DESIGN.md G4 across processes: one leader at a time, fenced commits, failover from the checkpoint. */
describeWithRedis('projections across instances', function () {
  this.timeout(300_000);
  let redis: Redis;
  let prefix: string;
  let cluster: Cluster;
  let secret: string;
  before(() => {
    redis = testClient();
  });
  after(() => redis.disconnect());
  afterEach(async () => {
    await cluster?.stop();
    await clearPrefix(redis, prefix);
  });

  const startCluster = async (env: Record<string, string> = {}) => {
    prefix = uniquePrefix('pj');
    secret = randomBytes(32).toString('base64');
    cluster = new Cluster((slot, generation) => ({
      REDIS_URL: testRedisUrl(),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${generation}`,
      LEASE_TTL_MS: '1000',
      COMMAND_CLAIM_IDLE_MS: '1000',
      LOG_LEVEL: 'info',
      ...env,
    }));
    await cluster.start(['a', 'b', 'c']);
  };

  const leader = async () => {
    const lease = await redis.get(keysFor(prefix).lease(NAME));
    return lease?.split('-')[0];
  };

  it('ends identical to an in-memory fold of the whole log after SIGKILLs of the leader', async () => {
    await startCluster();
    const load = startMoves({ urls: () => cluster.liveUrls(), trainers: 25, inFlight: 16 });
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const slot = await leader();
      if (!slot) continue;
      await cluster.crash(slot);
      kills += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await load.stop();
    await waitCaughtUp(redis, prefix, NAME);

    const live = await listTrainers(cluster.liveUrls()[0]!);
    const expected = await foldTrainers(redis, prefix);
    const fence = Number(await redis.hget(keysFor(prefix).projection(NAME), 'fence'));
    const leaderChanges = fence - 1;
    process.stdout.write(
      `      moves ${load.answers.length}, client retries ${load.retries}, leader SIGKILLs ${kills}, leader changes ${leaderChanges}, trainers ${live.length}\n`,
    );
    expect(live).to.deep.equal(expected);
    for (const t of live) expect(t.moves, `moves of ${String(t.trainerId)}`).to.equal(t.version);
    expect(live.reduce((n, t) => n + (t.moves as number), 0)).to.equal(load.answers.length);
    expect(kills, 'leaders killed').to.be.greaterThan(0);
    expect(leaderChanges, 'leader changes').to.be.greaterThan(0);
  });

  it('answers trainer.get with minPosition after the move it names, on another instance', async () => {
    await startCluster({ COMMAND_TIMEOUT_MS: '2000' });
    const [a, b] = cluster.liveUrls();
    const mover = new RpcClient({ url: a!, headers: { 'X-User-Id': 'ash' } });
    const reader = new RpcClient({ url: b!, headers: { 'X-User-Id': 'ash' } });
    for (let i = 0; i < 40; i++) {
      const moved = await mover.call<{ version: number; globalPosition: string }>('trainer.move', {
        action: 'start',
        directionX: 1,
        directionY: i,
      });
      const seen = await reader.call<{ version: number; moves: number }>('trainer.get', {
        trainerId: 'ash',
        minPosition: moved.globalPosition,
      });
      expect(seen.version, `read after move ${i}`).to.be.at.least(moved.version);
    }
    const [seconds = 0] = await redis.time();
    const future = `${Number(seconds) * 1000 + 3_600_000}-0`;
    const refused = await reader
      .call('trainer.get', { trainerId: 'ash', minPosition: future })
      .catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(RpcCallError);
    expect((refused as RpcCallError).code).to.equal(-32032);
    expect((refused as RpcCallError).data).to.include({ projection: NAME, minPosition: future });
    const other = await new RpcClient({ url: b!, headers: { 'X-User-Id': 'misty' } })
      .call('trainer.get', { trainerId: 'ash' })
      .catch((error: unknown) => error);
    expect((other as RpcCallError).code, "another user's trainer").to.equal(-32003);
  });

  it('rebuilds with npm run replay while commands arrive: same read model, no failed query', async () => {
    await startCluster();
    await startMoves({ urls: () => cluster.liveUrls(), trainers: 30, inFlight: 16, limit: 1500 })
      .done;
    await waitCaughtUp(redis, prefix, NAME);
    const before = await listTrainers(cluster.liveUrls()[0]!);
    expect(before, 'the live read model before the rebuild').to.deep.equal(
      await foldTrainers(redis, prefix),
    );

    const load = startMoves({ urls: () => cluster.liveUrls(), trainers: 30, inFlight: 8 });
    const queries = queryLoop(() => cluster.liveUrls());
    const replay = await runReplay({
      REDIS_URL: testRedisUrl(),
      KEY_PREFIX: prefix,
      SECRET_KEY: secret,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await load.stop();
    const { count, failures } = await queries.stop();
    await waitCaughtUp(redis, prefix, NAME);

    const after = await listTrainers(cluster.liveUrls()[0]!);
    process.stdout.write(
      `      moves ${1500 + load.answers.length}, queries during the rebuild ${count}, failed ${failures.length}\n`,
    );
    expect(replay.code, replay.output).to.equal(0);
    expect(replay.output).to.match(/generation 2 replaced 1/);
    expect(failures, 'queries that failed during the rebuild').to.deep.equal([]);
    expect(count).to.be.greaterThan(0);
    expect(after).to.deep.equal(await foldTrainers(redis, prefix));
    for (const t of after) expect(t.moves).to.equal(t.version);
    const keys = keysFor(prefix);
    expect(await redis.hget(keys.projection(NAME), 'generation')).to.equal('2');
    const oldKeys = (await keysUnder(redis, prefix)).filter((k) =>
      k.startsWith(`${keys.readModel(NAME)}1:`),
    );
    expect(oldKeys, 'keys of the replaced generation').to.deep.equal([]);
  });
});

/** `trainer.get` and `trainer.list` in a loop on every instance, collecting failures. */
function queryLoop(urls: () => string[]) {
  let stopping = false;
  let count = 0;
  const failures: string[] = [];
  const loop = async (worker: number) => {
    for (let i = worker; !stopping; i += 4) {
      const live = urls();
      const url = live[i % live.length]!;
      const trainerId = `t${i % 30}`;
      try {
        if (i % 2) await listTrainers(url, 50);
        else
          await new RpcClient({ url, headers: { 'X-User-Id': trainerId } }).call('trainer.get', {
            trainerId,
          });
        count += 1;
      } catch (error) {
        failures.push(String(error));
      }
    }
  };
  const running = Promise.all([0, 1, 2, 3].map(loop));
  return {
    async stop() {
      stopping = true;
      await running;
      return { count, failures };
    },
  };
}

/** Runs `npm run replay -- trainer-positions` (its script) as its own process. */
function runReplay(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/replay.ts', NAME], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
