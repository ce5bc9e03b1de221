import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { keysFor } from '../../src/events/keys.js';
import { InstanceRegistry } from '../../src/ops/index.js';
import { type ClusterProcess, startCluster } from '../support/cluster-process.js';
import { describeWithRedis, testClient, testRedisUrl, uniquePrefix } from '../support/redis.js';

describeWithRedis('npm run cluster on Redis (scripts/cluster.ts)', function () {
  this.timeout(90_000);
  let cluster: ClusterProcess | undefined;
  let redis: Redis | undefined;
  afterEach(async () => {
    await cluster?.stop('SIGKILL');
    for (const m of cluster?.members ?? []) {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    cluster = undefined;
    redis?.disconnect();
  });

  it('starts instances on consecutive ports with distinct SERVER_IDs and prefixed logs; Ctrl-C stops all', async () => {
    const prefix = uniquePrefix('cluster');
    redis = testClient();
    cluster = await startCluster(2, { REDIS_URL: testRedisUrl(), KEY_PREFIX: prefix });
    const { members } = cluster;
    expect(members).to.have.length(2);
    const ports = members.map((m) => Number(new URL(m.url).port));
    expect(ports[1]).to.equal(ports[0]! + 1);
    expect(members.map((m) => m.serverId)).to.deep.equal(ports.map((p) => `sc-${p}`));
    for (const m of members) {
      const health = (await (await fetch(`${m.url}/healthz`)).json()) as { serverId: string };
      expect(health.serverId).to.equal(m.serverId);
      expect((await fetch(`${m.url}/readyz`)).status).to.equal(200);
    }
    expect((await InstanceRegistry.live(redis, keysFor(prefix))).sort()).to.deep.equal(
      members.map((m) => m.serverId).sort(),
    );
    const out = cluster.output();
    expect(out).to.include('[cluster] starting 2 instances on ports');
    expect(out).to.include('SECRET_KEY is not set: this run uses a random one');
    for (const m of members) {
      const own = out.split('\n').filter((l) => l.includes(`"serverId":"${m.serverId}"`));
      expect(own.length, m.serverId).to.be.greaterThan(2);
      expect(
        own.every((l) => l.startsWith(`[${m.serverId}] {`)),
        m.serverId,
      ).to.equal(true);
    }
    expect(await cluster.stop('SIGINT')).to.equal(0);
    const stopped = cluster.output();
    expect(stopped).to.include('[cluster] all instances stopped');
    for (const m of members) {
      expect(stopped).to.include(`[cluster] ${m.serverId} exited with code 0`);
      expect(await fetch(`${m.url}/healthz`).catch(() => 'refused')).to.equal('refused');
    }
    expect(await InstanceRegistry.live(redis, keysFor(prefix))).to.deep.equal([]);
  });
});

describe('npm run cluster with nothing to connect to', () => {
  it('says that REDIS_URL is needed and exits 1', function () {
    this.timeout(20_000);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/cluster.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      encoding: 'utf8',
    });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.include('REDIS_URL is not set');
  });
});
