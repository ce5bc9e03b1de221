import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { RpcCallError, RpcClient } from '../../src/client/index.js';
import { partitioningFor, type RedisClient } from '../../src/index.js';
import { Cluster } from '../support/cluster.js';
import { startMoves } from '../support/moves.js';
import { foldTrainers, listTrainers, waitCaughtUp } from '../support/projections.js';
import { clearPrefix, keysUnder, uniquePrefix } from '../support/redis.js';
import { describeOnTopologies } from '../support/topologies.js';

const NAME = 'trainer-positions';

/**
 * DESIGN.md G4 across processes: one leader at a time per (projection, partition), fenced
 * commits, failover from the checkpoint — on one redis-server and on a Redis Cluster with
 * several partitions, whose leases spread over the instances (§8).
 */
describeOnTopologies('projections across instances', function (topology) {
  this.timeout(300_000);
  let redis: RedisClient;
  let prefix: string;
  let cluster: Cluster;
  let secret: string;
  let partitions = 1;
  before(() => {
    redis = topology().client();
    partitions = topology().partitions;
  });
  after(() => redis.disconnect());
  afterEach(async () => {
    await cluster?.stop();
    await clearPrefix(redis, prefix);
    partitions = topology().partitions;
  });
  const keysOf = (p: number) => partitioningFor(prefix, partitions).keys[p]!;
  const allPartitions = () => Array.from({ length: partitions }, (_, p) => p);
  const caughtUp = () => waitCaughtUp(redis, prefix, NAME, 30_000, partitions);
  const fold = () => foldTrainers(redis, prefix, partitions);

  const startCluster = async (env: Record<string, string> = {}, names = ['a', 'b', 'c']) => {
    prefix = uniquePrefix('pj');
    secret = randomBytes(32).toString('base64');
    cluster = new Cluster((slot, generation) => ({
      ...topology().env(),
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${slot}-${generation}`,
      LEASE_TTL_MS: '1000',
      COMMAND_CLAIM_IDLE_MS: '1000',
      LOG_LEVEL: 'info',
      ...env,
    }));
    await cluster.start(names);
  };

  /** The slot (instance name) leading each partition of the projection, if any. */
  const leaders = async () =>
    Promise.all(
      allPartitions().map(async (p) => (await redis.get(keysOf(p).lease(NAME)))?.split('-')[0]),
    );
  /** The instance leading the most partitions (the only leader with one partition). */
  const leader = async () => {
    const counts = new Map<string, number>();
    for (const slot of await leaders()) if (slot) counts.set(slot, (counts.get(slot) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  };
  /** Lease acquisitions after the first, over every partition. */
  const leaderChanges = async () => {
    let changes = 0;
    for (const p of allPartitions())
      changes += Math.max(0, Number(await redis.hget(keysOf(p).projection(NAME), 'fence')) - 1);
    return changes;
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
    await caughtUp();

    const live = await listTrainers(cluster.liveUrls()[0]!);
    const expected = await fold();
    const changes = await leaderChanges();
    const held = new Set(
      live.map((t) => partitioningFor(prefix, partitions).of(`trainer-${String(t.trainerId)}`)),
    );
    process.stdout.write(
      `      moves ${load.answers.length}, client retries ${load.retries}, leader SIGKILLs ${kills}, leader changes ${changes} over ${partitions} partition(s), trainers ${live.length} in ${held.size} partition(s), merged trainer.list pages of 7\n`,
    );
    expect(live).to.deep.equal(expected);
    for (const t of live) expect(t.moves, `moves of ${String(t.trainerId)}`).to.equal(t.version);
    expect(live.reduce((n, t) => n + (t.moves as number), 0)).to.equal(load.answers.length);
    expect(kills, 'leaders killed').to.be.greaterThan(0);
    expect(changes, 'leader changes').to.be.greaterThan(0);
    expect(held.size, 'partitions holding trainers (a merged list)').to.equal(partitions);
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
    // the future of the partition holding ash's moves: a wait there, not in another partition
    const ashPartition = partitioningFor(prefix, partitions).of('trainer-ash');
    const entry = `${Number(seconds) * 1000 + 3_600_000}-0`;
    const future = partitions > 1 ? `${ashPartition}:${entry}` : entry;
    const refused = await reader
      .call('trainer.get', { trainerId: 'ash', minPosition: future })
      .catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(RpcCallError);
    expect((refused as RpcCallError).code).to.equal(-32032);
    expect((refused as RpcCallError).data).to.include({ projection: NAME, minPosition: future });
    for (const bad of [`${partitions}:${entry}`, partitions > 1 ? entry : `0:${entry}`]) {
      const invalid = await reader
        .call('trainer.get', { trainerId: 'ash', minPosition: bad })
        .catch((error: unknown) => error);
      expect((invalid as RpcCallError).code, `minPosition ${bad}`).to.equal(-32602);
      expect((invalid as RpcCallError).message, `minPosition ${bad}`).to.include(bad);
    }
    const other = await new RpcClient({ url: b!, headers: { 'X-User-Id': 'misty' } })
      .call('trainer.get', { trainerId: 'ash' })
      .catch((error: unknown) => error);
    expect((other as RpcCallError).code, "another user's trainer").to.equal(-32003);
  });

  it('rebuilds with npm run replay while commands arrive: same read model, no failed query', async () => {
    await startCluster();
    await startMoves({ urls: () => cluster.liveUrls(), trainers: 30, inFlight: 16, limit: 1500 })
      .done;
    await caughtUp();
    const before = await listTrainers(cluster.liveUrls()[0]!);
    expect(before, 'the live read model before the rebuild').to.deep.equal(await fold());

    const load = startMoves({ urls: () => cluster.liveUrls(), trainers: 30, inFlight: 8 });
    const queries = queryLoop(() => cluster.liveUrls());
    const replay = await runReplay({ ...topology().env(), KEY_PREFIX: prefix, SECRET_KEY: secret });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await load.stop();
    const { count, failures } = await queries.stop();
    await caughtUp();

    const after = await listTrainers(cluster.liveUrls()[0]!);
    process.stdout.write(
      `      moves ${1500 + load.answers.length}, queries during the rebuild ${count}, failed ${failures.length}\n`,
    );
    expect(replay.code, replay.output).to.equal(0);
    const swaps = replay.output.match(/generation 2 replaced 1/g) ?? [];
    expect(swaps.length, `one swap per partition:\n${replay.output}`).to.equal(partitions);
    if (partitions > 1) {
      for (const p of allPartitions())
        expect(replay.output).to.include(`${NAME} partition ${p}: generation 2 replaced 1`);
    }
    expect(failures, 'queries that failed during the rebuild').to.deep.equal([]);
    expect(count).to.be.greaterThan(0);
    expect(after).to.deep.equal(await fold());
    for (const t of after) expect(t.moves).to.equal(t.version);
    const under = await keysUnder(redis, prefix);
    for (const p of allPartitions()) {
      const keys = keysOf(p);
      expect(await redis.hget(keys.projection(NAME), 'generation'), `partition ${p}`).to.equal('2');
      const oldKeys = under.filter((k) => k.startsWith(`${keys.readModel(NAME)}1:`));
      expect(oldKeys, `keys of partition ${p}'s replaced generation`).to.deep.equal([]);
    }
  });

  it("spreads the partitions' leases over the instances, and takes them all when one is left", async () => {
    // on one redis-server the data gets 4 partitions of its own (one partition has nothing to spread)
    if (partitions === 1) partitions = 4;
    // a dead instance leaves the registry (and the survivor's share) within 2 s
    await startCluster({ SERVER_TTL_MS: '2000', PARTITIONS: String(partitions) }, ['a', 'b']);
    const share = Math.ceil(partitions / 2);
    const deadline = Date.now() + 30_000;
    let spread: (string | undefined)[] = [];
    for (;;) {
      spread = await leaders();
      const a = spread.filter((s) => s === 'a').length;
      const b = spread.filter((s) => s === 'b').length;
      if (a === share && b === partitions - share) break;
      if (b === share && a === partitions - share) break;
      if (Date.now() > deadline) throw new Error(`leases not spread: ${spread.join(' ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const changes = await leaderChanges();
    const yields = cluster.count(/left the lease to another instance/);
    const lost = cluster.count(/lease lost|stepped down/);
    process.stdout.write(
      `      leaders by partition: ${spread.join(' ')} (share ${share} each; leader changes ${changes}, leases given up for the share ${yields}, lost or stepped down ${lost})\n`,
    );
    await startMoves({ urls: () => cluster.liveUrls(), trainers: 20, inFlight: 8, limit: 300 })
      .done;
    await caughtUp();
    expect(await listTrainers(cluster.liveUrls()[0]!)).to.deep.equal(await fold());
    // system.status and /metrics show each partition's checkpoint and leader
    const url = cluster.liveUrls()[0]!;
    const status = await new RpcClient({ url, headers: { 'X-User-Id': 'oak' } }).call<{
      projections: { name: string; lagEvents: number; partitions?: PartitionRow[] }[];
    }>('system.status', {});
    const rows = status.projections.find((p) => p.name === NAME)?.partitions ?? [];
    expect(rows.map((r) => r.partition)).to.deep.equal(allPartitions());
    expect(rows.map((r) => r.leader?.split('-')[0])).to.deep.equal(spread);
    expect(
      rows.every((r) => r.lagEvents === 0 && r.position.startsWith(`${r.partition}:`)),
    ).to.equal(true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const leading = metrics.match(
      new RegExp(
        `streamcast_projection_leader\\{[^}]*projection="${NAME}"[^}]*partition="\\d+"[^}]*\\} 1`,
        'g',
      ),
    );
    expect(
      leading?.length,
      `partitions instance ${spread.includes('a') ? 'a' : 'b'} leads`,
    ).to.equal(spread.filter((s) => s === 'a').length);
    await cluster.kill('a');
    const after = Date.now() + 30_000;
    while ((await leaders()).some((s) => s !== 'b')) {
      if (Date.now() > after) throw new Error(`b did not take every lease: ${await leaders()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.stdout.write(`      after a's SIGKILL: ${(await leaders()).join(' ')}\n`);
  });
});

/** One partition's row of a projection in `system.status`. */
interface PartitionRow {
  readonly partition: number;
  readonly position: string;
  readonly lagEvents: number;
  readonly leader?: string;
}

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
