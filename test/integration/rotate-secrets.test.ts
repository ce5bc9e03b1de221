import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { RedisSecretStore, SecretBox, sealedKeyId } from '../../src/connections/index.js';
import { keysFor } from '../../src/events/keys.js';
import { createLogger } from '../../src/log.js';
import { InstanceRegistry } from '../../src/ops/index.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const SECRETS = 1500;
const idOf = (i: number) => `gh_${String(i).padStart(10, '0')}`;

/** `npm run rotate-secrets` as a child process, with its output and exit code. */
function rotation(env: Record<string, string>, args: string[] = []) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/rotate-secrets.ts', ...args],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c) => {
    output += String(c);
  });
  child.stderr!.on('data', (c) => {
    output += String(c);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

describeWithRedis(
  'npm run rotate-secrets (re-seal under a new SECRET_KEY, resumable)',
  function () {
    this.timeout(90_000);
    let redis: Redis;
    let prefix: string;
    before(() => {
      redis = testClient();
    });
    after(() => redis.disconnect());
    beforeEach(() => {
      prefix = uniquePrefix('rotate');
    });
    afterEach(() => clearPrefix(redis, prefix));

    const env = () => ({
      REDIS_URL: testRedisUrl()!,
      KEY_PREFIX: prefix,
      SECRET_KEY: keyB.toString('base64'),
      SECRET_KEY_PREVIOUS: keyA.toString('base64'),
      LOG_LEVEL: 'error',
    });

    /** How many stored secrets are sealed under key B. */
    async function underB(store: RedisSecretStore, ids: readonly string[]): Promise<number> {
      const values = await Promise.all(ids.map((id) => store.get(id)));
      return values.filter((v) => v && sealedKeyId(v) === new SecretBox(keyB).keyId).length;
    }

    it('survives a kill, shares the work between two runs while connections arrive, refuses a stranger', async () => {
      const store = new RedisSecretStore(redis, keysFor(prefix));
      const boxA = new SecretBox(keyA);
      const ids = Array.from({ length: SECRETS }, (_, i) => idOf(i));
      for (let i = 0; i < SECRETS; i += 100) {
        await Promise.all(
          ids.slice(i, i + 100).map((id) => store.put(id, boxA.seal(`token-${id}`, id))),
        );
      }
      const stranger = new SecretBox(randomBytes(32)).seal('x', 'gh_stranger00');
      await store.put('gh_stranger00', stranger);

      // a slow run, SIGKILLed part-way
      const killed = rotation(env(), ['--batch', '20', '--rate', '400']);
      let before = 0;
      while (before < 100) {
        await new Promise((r) => setTimeout(r, 100));
        before = await underB(store, ids);
      }
      killed.child.kill('SIGKILL');
      await killed.exited;
      const afterKill = await underB(store, ids);
      expect(afterKill, 'the kill came part-way').to.be.within(100, SECRETS - 1);

      // two runs at once resume it while new connections arrive (sealed under B by the instances)
      const runs = [rotation(env(), ['--batch', '50']), rotation(env(), ['--batch', '30'])];
      const boxB = new SecretBox(keyB, [keyA]);
      const arrived: string[] = [];
      let running = true;
      void Promise.all(runs.map((r) => r.exited)).then(() => {
        running = false;
      });
      while (running || arrived.length < 20) {
        const id = `aws_${String(arrived.length).padStart(10, '0')}`;
        await store.put(id, boxB.seal(`new-${id}`, id));
        arrived.push(id);
        await new Promise((r) => setTimeout(r, 10));
      }
      const codes = await Promise.all(runs.map((r) => r.exited));
      expect(codes, runs.map((r) => r.output()).join('\n')).to.deep.equal([1, 1]);
      const resealed = runs.map((r) => Number(/re-sealed (\d+)/.exec(r.output())?.[1]));
      for (const r of runs) {
        expect(r.output()).to.include('left unchanged: gh_stranger00: wrong-key');
        expect(r.output()).not.to.include('token-');
      }
      expect(resealed[0]! + resealed[1]!, 'each left-over secret re-sealed by one run').to.equal(
        SECRETS - afterKill,
      );

      // every secret opens under B alone, none missing; the stranger is as it was
      const onlyB = new SecretBox(keyB);
      for (const id of [...ids, ...arrived]) {
        const sealed = await store.get(id);
        expect(sealed, id).not.to.equal(undefined);
        expect(onlyB.open(sealed!, id)).to.equal(
          id.startsWith('gh_') ? `token-${id}` : `new-${id}`,
        );
      }
      expect(await store.get('gh_stranger00')).to.equal(stranger);

      // a run after that finds nothing to do
      const again = rotation(env());
      expect(await again.exited).to.equal(1);
      expect(again.output()).to.match(/re-sealed 0 /);
      process.stdout.write(
        `      ${SECRETS} secrets: ${afterKill} re-sealed before the kill, ${resealed.join(' + ')} by the two runs at once, ${arrived.length} connections arrived meanwhile, 1 stranger left unchanged\n`,
      );
    });

    it('refuses to start while a live instance seals under another key', async () => {
      const registry = new InstanceRegistry(redis, keysFor(prefix), {
        serverId: 'old-key',
        ttlMs: 10_000,
        secretKeyId: new SecretBox(keyA).keyId,
        logger: createLogger({ level: 'error', serverId: 'old-key' }),
      });
      await registry.join();
      try {
        const refused = rotation(env());
        expect(await refused.exited).to.equal(2);
        expect(refused.output()).to.include('refused').and.include('old-key');
      } finally {
        await registry.leave();
      }
    });
  },
);
