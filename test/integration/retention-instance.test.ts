/**
 * Retention in a running instance (npm start) on the test Redis: LOG_RETENTION_MS without an
 * archive says at start-up that older history is deleted for good, then trims the log to what is
 * younger (once projected), and events.readAll goes on from what Redis holds.
 */
import { expect } from 'chai';
import { RpcClient } from '../../src/client/index.js';
import { keysFor } from '../../src/events/keys.js';
import { describeWithRedis, type QuietInstance, startQuietInstance } from '../support/redis.js';

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
