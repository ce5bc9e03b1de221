import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { keysFor } from '../../src/events/keys.js';
import { silentLogger } from '../../src/log.js';
import { type InstanceInfo, InstanceRegistry } from '../../src/ops/index.js';
import { describeWithRedis, keysUnder, testClient, uniquePrefix } from '../support/redis.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('instance registry {sc}:servers on Redis (src/ops/instance-registry.ts)', () => {
  let redis: Redis;
  let prefix: string;
  const registries: InstanceRegistry[] = [];
  const registry = (serverId: string, ttlMs = 1000, onLost?: (h?: InstanceInfo) => void) => {
    const r = new InstanceRegistry(redis, keysFor(prefix), {
      serverId,
      ttlMs,
      port: 8081,
      logger: silentLogger,
      ...(onLost ? { onLost } : {}),
    });
    registries.push(r);
    return r;
  };

  beforeEach(() => {
    redis = testClient();
    prefix = uniquePrefix('reg');
  });
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.leave().catch(() => {})));
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('refuses a second process under a live id and names the holder', async () => {
    const first = registry('node-a');
    expect(await first.join()).to.deep.equal({ joined: true });
    const second = await registry('node-a').join();
    expect(second.joined).to.equal(false);
    if (second.joined) return;
    expect(second.holder).to.include({
      pid: process.pid,
      port: 8081,
      incarnation: first.info.incarnation,
    });
    expect(second.expiresInMs).to.be.within(1, 1000);
    expect(await registry('node-b').join()).to.deep.equal({ joined: true });
    expect((await InstanceRegistry.live(redis, keysFor(prefix))).sort()).to.deep.equal([
      'node-a',
      'node-b',
    ]);
  });

  it('keeps a live id by heartbeats beyond its TTL', async () => {
    await registry('node-a', 300).join();
    await sleep(800);
    expect((await registry('node-a', 300).join()).joined).to.equal(false);
  });

  it('frees the id at once when its holder leaves', async () => {
    const first = registry('node-a', 300);
    await first.join();
    await first.leave();
    expect((await registry('node-a', 300).join()).joined).to.equal(true);
  });

  it('frees the id after its TTL when the holder crashed (stopped heartbeating)', async () => {
    const keys = keysFor(prefix);
    await redis.zadd(keys.servers, Date.now() + 300, 'node-a');
    await redis.hset(keys.serverInfo, 'node-a', JSON.stringify({ incarnation: 'crashed', pid: 1 }));
    expect((await registry('node-a', 300).join()).joined).to.equal(false);
    await sleep(400);
    expect((await registry('node-a', 300).join()).joined).to.equal(true);
  });

  it('tells a process whose id was taken over after it missed its heartbeats, and fails its readiness', async () => {
    const lost: (InstanceInfo | undefined)[] = [];
    const paused = registry('node-a', 200, (holder) => lost.push(holder));
    await paused.join();
    // another process takes the id while this one's entry has lapsed
    await redis.zadd(keysFor(prefix).servers, 0, 'node-a');
    const usurper = registry('node-a', 5000);
    expect((await usurper.join()).joined).to.equal(true);
    await sleep(300);
    expect(lost).to.have.length(1);
    expect(lost[0]).to.include({ incarnation: usurper.info.incarnation });
    expect(paused.readiness.check()).to.deep.include({ ok: false });
    await paused.leave();
    expect(await InstanceRegistry.live(redis, keysFor(prefix))).to.deep.equal(['node-a']);
  });

  it('joins again when its entry lapsed and nobody took the id', async () => {
    const r = registry('node-a', 200);
    await r.join();
    await redis.zrem(keysFor(prefix).servers, 'node-a');
    await redis.hdel(keysFor(prefix).serverInfo, 'node-a');
    await sleep(150);
    expect(await InstanceRegistry.live(redis, keysFor(prefix))).to.deep.equal(['node-a']);
    expect(r.readiness.check()).to.deep.equal({ ok: true });
  });
});
