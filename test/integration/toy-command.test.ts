import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import type { Redis } from 'ioredis';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { RpcCallError, RpcClient } from '../../src/client/index.js';
import { authenticate } from '../../src/http/auth.js';
import {
  CommandRuntime,
  catalogueHandlers,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  keysFor,
  MemoryCommandBus,
  MemoryEventStore,
  MemorySecretStore,
  makeCaller,
  silentLogger,
} from '../../src/index.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { rpcMethods } from '../../src/rpc/methods/index.js';
import { type RpcServices, senderOf } from '../../src/rpc/methods/services.js';
import { createRpcHandler } from '../../src/rpc/router.js';
import { listen, type Running } from '../support/http.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';
import { TOY_COMMANDS } from '../support/toy/catalogue.js';
import { tally } from '../support/toy/tally.js';

/**
 * Adding a command is one definition file and one catalogue line: the toy `toy.tally` (in
 * test/support/toy/) is served over JSON-RPC, listed by rpc.discover, answered with a typed result,
 * once for a repeat of its command id, and once after a redelivery.
 */
describe('a toy command added with one definition and one catalogue line', () => {
  let server: Running;
  let services: RpcServices;
  let store: MemoryEventStore;
  let bus: MemoryCommandBus;
  beforeEach(async () => {
    store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'toy' });
    bus = new MemoryCommandBus(store, {
      timeoutMs: 5000,
      maxAttempts: 3,
      backlogMax: 100,
      concurrency: 4,
      logger: silentLogger,
    });
    const handlers = catalogueHandlers(TOY_COMMANDS, {
      store,
      ports: commandPorts(store, new MemorySecretStore()),
      settings: { trainerSpeed: 5, deployMaxQueued: 10 },
    });
    await bus.serve(new CommandRuntime(store).processor(handlers));
    services = {
      serverId: 'toy',
      storeName: 'memory',
      store,
      bus,
      readModels: {} as ReadModels,
      commandTimeoutMs: 5000,
      redisStatus: () => undefined,
      backlog: async () => ({ pending: 0, lag: 0, dead: 0 }),
      catalogue: TOY_COMMANDS,
    };
    const app = express();
    const auth = authenticate({ mode: 'none', logger: silentLogger, allowAnonymous: true });
    app.use(
      createRpcHandler({
        methods: rpcMethods(services, 'toy'),
        logger: silentLogger,
        authenticate: auth,
      }),
    );
    server = await listen(app);
  });
  afterEach(async () => {
    await server.close();
    await bus.close();
  });

  const rpc = (method: string, params: Record<string, unknown>) =>
    new RpcClient({ url: server.base, headers: { 'X-User-Id': 'ash' } }).call(method, params);

  it('is served over JSON-RPC and listed by rpc.discover with its params, result and errors', async () => {
    const doc = (await rpc('rpc.discover', {})) as {
      methods: { name: string; params: { name: string }[]; errors: { code: number }[] }[];
    };
    const method = doc.methods.find((m) => m.name === 'toy.tally');
    expect(method?.params.map((p) => p.name)).to.deep.equal(['amount', 'commandId']);
    expect(method?.errors.map((e) => e.code)).to.include.members([-32010, -32029, -32030, -32031]);
    expect(await rpc('toy.tally', { amount: 5 })).to.deep.equal({ total: 5, version: 1 });
    const refused = await rpc('toy.tally', { amount: 0 }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(RpcCallError).with.property('code', -32602);
  });

  it('answers with its typed result (no cast at the call site), once per command id', async () => {
    const sender = senderOf(services);
    const context = { actor: makeCaller('ash', [], []), correlationId: 'c-1' };
    const commandId = randomUUID();
    const first = await sender.send(tally, { amount: 7, commandId }, context);
    const total: number = first.total; // typed by the definition's answer
    const again = await sender.send(tally, { amount: 7, commandId }, context);
    expect({ total, version: first.version }).to.deep.equal({ total: 7, version: 1 });
    expect(again).to.deep.equal(first);
    expect((await store.readStream('toy-ash')).events).to.have.length(1);
  });
});

describeWithRedis(
  'a toy command committed by another instance while its first one stalled',
  function () {
    this.timeout(60_000);
    let redis: Redis;
    let prefix: string;
    const apps: AppProcess[] = [];
    before(() => {
      redis = testClient();
    });
    after(() => redis.disconnect());
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((a) => a.stop('SIGKILL')));
      await clearPrefix(redis, prefix);
    });

    it('is answered once: a zombie commit after a reclaim finds its outcome and appends nothing', async () => {
      prefix = uniquePrefix('toy');
      const env = {
        REDIS_URL: testRedisUrl(),
        SECRET_KEY: randomBytes(32).toString('base64'),
        KEY_PREFIX: prefix,
        // a stalls for three times this: long enough for b to start and reclaim
        COMMAND_CLAIM_IDLE_MS: '2000',
      };
      const entry = 'test/support/toy/main.ts';
      const a = await startApp(
        { ...env, SERVER_ID: 'toy-a', STREAMCAST_FAULT: 'stall-before-commit:1' },
        entry,
      );
      apps.push(a);
      await a.waitForLine(/start-up checks passed/);
      const commandId = randomUUID();
      const call = (url: string) =>
        new RpcClient({ url, headers: { 'X-User-Id': 'ash' } }).call('toy.tally', {
          amount: 3,
          commandId,
        });
      const answered = call(a.url); // a decides, then freezes before committing
      await a.waitForLine(/fault: stall-before-commit/);
      const b = await startApp({ ...env, SERVER_ID: 'toy-b' }, entry);
      apps.push(b);
      await b.waitForLine(/"reclaimed":1/, 30_000); // b takes the command over and commits it
      expect(await answered).to.deep.equal({ total: 3, version: 1 });
      await a.waitForLine(/"redelivered":1/, 30_000); // a's late commit: already handled
      expect(await call(b.url)).to.deep.equal({ total: 3, version: 1 });
      expect(await redis.xlen(keysFor(prefix).stream('toy-ash'))).to.equal(1);
      process.stdout.write(
        '      stalls 1, reclaims 1, zombie commits answered as already handled 1, events 1\n',
      );
    });
  },
);
