import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { partitioningFor } from '../../src/events/partitions.js';
import { checkPartitionRecord } from '../../src/ops/partition-record.js';
import { clearPrefix, describeWithRedis, testClient, uniquePrefix } from '../support/redis.js';

describeWithRedis('PARTITIONS recorded for the data’s lifetime', () => {
  let redis: Redis;
  let prefix = '';
  before(() => {
    redis = testClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix('parts');
  });
  afterEach(() => clearPrefix(redis, prefix));
  after(() => redis.disconnect());

  it('records the first number and refuses another, naming both', async () => {
    const shared = partitioningFor(prefix, 16).shared;
    expect(await checkPartitionRecord(redis, shared, 16)).to.equal(undefined);
    expect(await redis.hget(shared.meta, 'partitions')).to.equal('16');
    expect(await checkPartitionRecord(redis, shared, 16)).to.equal(undefined);
    const refusal = await checkPartitionRecord(redis, shared, 4);
    expect(refusal).to.match(/PARTITIONS is 4 but the data .* has 16 partitions/);
    expect(refusal).to.match(/Fix: set PARTITIONS=16/);
    expect(await redis.hget(shared.meta, 'partitions')).to.equal('16');
  });

  it('refuses to split data written before the record (one partition’s log)', async () => {
    const shared = partitioningFor(prefix, 1).shared;
    await redis.xadd(shared.all, '*', 'e', '1');
    expect(await checkPartitionRecord(redis, shared, 8)).to.match(/has 1 partition /);
    expect(await redis.hget(shared.meta, 'partitions')).to.equal(null);
    expect(await checkPartitionRecord(redis, shared, 1)).to.equal(undefined);
    expect(await redis.hget(shared.meta, 'partitions')).to.equal('1');
  });
});
