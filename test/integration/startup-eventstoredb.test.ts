import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { RpcClient } from '../../src/client/index.js';
import { startEventStoreDouble } from '../support/eventstore-double/index.js';
import { readyStatus } from '../support/readiness.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';

/**
 * `npm start` with STORE=eventstoredb and an EventStoreDB that does not answer: the instance says
 * what is wrong (naming EventStoreDB, credentials redacted), keeps running unready, never falls
 * back to another store, and turns ready by itself once the server answers.
 */
describeWithRedis('start-up with STORE=eventstoredb and an unreachable server', function () {
  this.timeout(90_000);
  let app: AppProcess | undefined;
  const prefix = uniquePrefix('esdb-start');
  after(async () => {
    await app?.stop('SIGKILL');
    const redis = testClient();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  it('stays up and unready naming EventStoreDB, then turns ready when it answers', async () => {
    const double = await startEventStoreDouble();
    await double.stop(); // its port now refuses connections
    const url = `esdb://admin:changeit@127.0.0.1:${double.port}?tls=false`;
    app = await startApp({
      REDIS_URL: testRedisUrl(),
      STORE: 'eventstoredb',
      EVENTSTORE_CONNECTION_STRING: url,
      KEY_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('base64'),
    });
    const line = await app.waitForLine(/EventStoreDB at .* unreachable/, 20_000);
    const health = await fetch(`${app.url}/healthz`);
    const ready = await fetch(`${app.url}/readyz`);
    const body = (await ready.json()) as { failing: { name: string; reason: string }[] };
    await new Promise((resolve) => setTimeout(resolve, 3000)); // a few more probes, no exit
    const stillUnready = await fetch(`${app.url}/readyz`);
    await stillUnready.body?.cancel();
    expect(health.status).to.equal(200);
    expect(ready.status).to.equal(503);
    expect(body.failing.map((f) => f.name)).to.include('eventstoredb');
    expect(body.failing.find((f) => f.name === 'eventstoredb')?.reason).to.match(
      /^EventStoreDB at esdb:\/\/\[redacted\]@127\.0\.0\.1:\d+\?tls=false unreachable .*retrying every 2 s$/,
    );
    expect(stillUnready.status).to.equal(503);
    expect(await Promise.race([app.exited, Promise.resolve('running')])).to.equal('running');
    expect(app.output()).to.not.match(/using the Redis event store|in-memory store/);

    await double.start();
    expect(await readyStatus(app.url, 30_000)).to.equal(200);
    const rpc = new RpcClient({ url: app.url, headers: { 'X-User-Id': 'ash' } });
    const moved = (await rpc.call('trainer.move', {
      action: 'start',
      directionX: 1,
      directionY: 0,
    })) as { globalPosition: string; version: number };
    expect(moved.version).to.equal(1);
    expect(moved.globalPosition).to.match(/^\d+-\d+$/);
    expect(app.output()).to.not.include('changeit');
    // the notifier's place in $all, for operators: system.status and /metrics
    const admin = new RpcClient({
      url: app.url,
      headers: { 'X-User-Id': 'ops', 'X-User-Roles': 'admin' },
    });
    let status: {
      store: string;
      notifier?: { checkpoint: string; lagEvents: number; leader?: string };
    };
    for (let waited = 0; ; waited += 100) {
      status = await admin.call('system.status', {});
      if (status.notifier?.checkpoint === moved.globalPosition || waited > 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status.store).to.equal('eventstoredb');
    expect(status.notifier).to.deep.include({ checkpoint: moved.globalPosition, lagEvents: 0 });
    expect(status.notifier?.leader).to.be.a('string');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).to.match(/^streamcast_eventstoredb_notifier_lag_events(\{[^}]*\})? 0$/m);
    expect(metrics).to.match(/^streamcast_eventstoredb_up(\{[^}]*\})? 1$/m);
    process.stdout.write(
      `      unready with: ${line.length > 160 ? `${line.slice(0, 160)}…` : line}\n      ready once the server answered; a move answered at ${moved.globalPosition}\n`,
    );
    await double.stop();
  });
});
