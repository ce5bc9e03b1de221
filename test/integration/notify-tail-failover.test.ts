/**
 * The notifications tail across a Redis Cluster failover that lost writes (G5 on the cluster
 * topology). The master holding the notifications stream takes entries its replica never gets,
 * the hub delivers them, the master is SIGKILLed and its replica promoted without them. The
 * Cluster client stays up through all of it (it emits no `close`), so unless the tail reports the
 * lost node, the hub delivers the first entry written after the failover, its position moves past
 * the loss, and the periodic check finds nothing wrong: sessions silently miss what was lost.
 * And a tail closed while the failover runs must close: ioredis's Cluster client, disconnected
 * then, keeps the read it was about to retry queued for good, and a hub waiting for it stopped
 * checking and never followed that partition again.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { partitioningFor } from '../../src/events/partitions.js';
import { connectRedis, type RedisClient } from '../../src/events/redis-connection.js';
import { RedisNotificationLog, silentLogger } from '../../src/index.js';
import { Hub } from '../../src/sse/hub.js';
import type { NotificationLog } from '../../src/sse/notification-log.js';
import { cutReplication, describeWithRedisCluster, replicaOf } from '../support/redis-cluster.js';
import { until } from '../support/rpc-load.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `log`, counting the times its tails reported a lost connection. */
function counting(log: NotificationLog): NotificationLog & { interrupted: number } {
  const counted = {
    interrupted: 0,
    epoch: () => log.epoch(),
    renewEpoch: (old: string) => log.renewEpoch(old),
    retention: () => log.retention(),
    range: (after: string, upTo: string, count: number) => log.range(after, upTo, count),
    follow: (...[after, handler, onInterrupted]: Parameters<NotificationLog['follow']>) =>
      log.follow(after, handler, () => {
        counted.interrupted += 1;
        onInterrupted?.();
      }),
  };
  return counted;
}

describeWithRedisCluster(
  'Notifications tail across a failover that lost writes (G5, cluster)',
  (cluster) => {
    let redis: RedisClient;
    before(() => {
      redis = connectRedis({ clusterNodes: cluster().nodes }, silentLogger);
    });
    after(() => redis.disconnect());

    it('reports the lost node, so the hub finds the lost entries and starts a new epoch', async function () {
      this.timeout(90_000);
      const keys = partitioningFor('tailfo', 1).keys[0]!;
      const notify = (n: number) =>
        redis.xadd(
          keys.notify,
          '*',
          'method',
          'm',
          'params',
          JSON.stringify({ n }),
          'target',
          'broadcast',
        );
      const log = counting(new RedisNotificationLog(redis, keys, silentLogger));
      // checks every 2 s, as in production: the first entry after the failover usually arrives first
      const hub = new Hub({
        log,
        serverId: 't',
        heartbeatMs: 60_000,
        logger: silentLogger,
      });
      await notify(0);
      await hub.start();
      try {
        const epoch = () => hub.position.split(':')[0];
        const before = epoch();
        for (let n = 1; n <= 3; n += 1) await notify(n);
        const master = await cluster().masterOf(keys.notify);
        const toMaster = new Redis(Number(master.slice(master.lastIndexOf(':') + 1)));
        const replicated = await toMaster.wait(1, 10_000); // entries 0-3 are on the replica
        toMaster.disconnect();
        expect(replicated, 'replicas that took entries 0-3').to.equal(1);
        const cut = await cutReplication(master, await replicaOf(cluster(), master));
        let lastLost = '';
        for (let n = 4; n <= 6; n += 1) lastLost = (await notify(n))!;
        await until(() => hub.position.endsWith(`:${lastLost}`), 20_000); // delivered, not replicated
        const interruptedBefore = log.interrupted;
        // a second tail, closed while the failover runs (as a hub closes a lane's tail when its
        // check finds the loss): ioredis keeps its read queued, so close must not wait for it
        const other = log.follow(lastLost, () => {});
        await cluster().kill(master);
        await sleep(1000);
        const closing = Promise.race([
          other.close().then(() => 'closed'),
          sleep(15_000).then(() => 'hung'),
        ]);
        const { promoted, ms } = await cluster().waitForFailover(master);
        expect(await closing, 'a tail closed during the failover').to.equal('closed');
        const after = (await notify(7))!;
        await until(() => epoch() !== before, 20_000); // the loss found
        await cut.heal();
        const kept = (await redis.xrange(keys.notify, '-', '+')).length;
        process.stdout.write(
          `      ${master} killed, ${promoted} promoted in ${ms} ms with ${kept} of 8 entries; the tail reported ${log.interrupted - interruptedBefore} lost connection(s); new epoch at ${hub.position}\n`,
        );
        expect(kept, 'the failover lost the entries written while cut off').to.equal(5);
        expect(log.interrupted - interruptedBefore).to.be.greaterThan(0);
        await until(() => hub.position.endsWith(`:${after}`), 20_000); // following the new epoch
      } finally {
        await hub.close();
      }
    });
  },
);
