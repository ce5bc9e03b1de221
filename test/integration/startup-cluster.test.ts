import { expect } from 'chai';
import { partitioningFor } from '../../src/events/partitions.js';
import type { RedisClient } from '../../src/events/redis-connection.js';
import { silentLogger } from '../../src/index.js';
import { checkEveryMaster } from '../../src/ops/startup.js';
import { describeOnTopologies } from '../support/topologies.js';

describeOnTopologies('start-up checks on every master', (topology) => {
  let redis: RedisClient;
  before(async () => {
    redis = topology().client();
    await redis.ping(); // a cluster client learns its masters on first use
  });
  after(() => redis.disconnect());

  it('judges each master, and warns when PARTITIONS leaves a master without a partition', async () => {
    const check = (partitions: number) =>
      checkEveryMaster({
        redis,
        partitioning: partitioningFor('sc', partitions),
        logger: silentLogger,
      });
    const many = await check(6);
    expect(many.filter((f) => f.check === 'partitions')).to.deep.equal([]);
    expect(many.filter((f) => f.severity === 'refuse')).to.deep.equal([]);
    if (topology().name === 'redis-server') return; // one server: no masters to leave idle
    const few = await check(2);
    const idle = few.filter((f) => f.check === 'partitions');
    expect(idle, JSON.stringify(few)).to.have.length(1);
    expect(idle[0]!.message).to.match(/cluster master \S+ holds none of the 2 partitions/);
    process.stdout.write(`      ${idle[0]!.message.slice(0, 80)}…\n`);
  });
});
