import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import {
  clusterMembers,
  parseClusterArgs,
  redisClusterEnv,
} from '../../scripts/lib/cluster-options.js';
import { prefixLines } from '../../scripts/lib/line-prefixer.js';

describe('npm run cluster: arguments and log prefixes (scripts/lib)', () => {
  it('starts three instances on 8081.. with distinct SERVER_IDs by default', () => {
    const options = parseClusterArgs([]);
    expect(options).to.deep.equal({ instances: 3, basePort: 8081, idPrefix: 'sc' });
    expect(clusterMembers(options)).to.deep.equal([
      { serverId: 'sc-8081', port: 8081 },
      { serverId: 'sc-8082', port: 8082 },
      { serverId: 'sc-8083', port: 8083 },
    ]);
    expect(
      clusterMembers(parseClusterArgs(['--instances', '2', '--base-port', '9000'])),
    ).to.have.length(2);
  });

  it('names the bad argument', () => {
    expect(() => parseClusterArgs(['--instances', '0'])).to.throw(/--instances/);
    expect(() => parseClusterArgs(['--base-port', '65535', '--instances', '2'])).to.throw(
      /--base-port/,
    );
    expect(() => parseClusterArgs(['--id-prefix', 'a b'])).to.throw(/--id-prefix/);
    expect(() => parseClusterArgs(['--nodes', '3'])).to.throw(/nodes/);
    expect(() => parseClusterArgs(['--redis-cluster', '2'])).to.throw(/--redis-cluster.*not 2/);
    expect(() => parseClusterArgs(['--redis-cluster', 'x'])).to.throw(/--redis-cluster.*not x/);
  });

  it('--redis-cluster N asks for a local Redis Cluster of N masters', () => {
    expect(parseClusterArgs(['--redis-cluster', '3']).redisCluster).to.equal(3);
    expect(parseClusterArgs([])).not.to.have.property('redisCluster');
  });

  it('--redis-cluster runs the instances on the cluster: its nodes, PARTITIONS 6 unless set, no REDIS_URL', () => {
    const nodes = ['127.0.0.1:7001', '127.0.0.1:7002'];
    const env = redisClusterEnv(
      { REDIS_URL: 'redis://u:p@elsewhere:6379', KEY_PREFIX: 'x' },
      nodes,
    );
    expect(env).to.deep.equal({
      KEY_PREFIX: 'x',
      REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002',
      PARTITIONS: '6',
    });
    expect(redisClusterEnv({ PARTITIONS: '16' }, nodes).PARTITIONS).to.equal('16');
    expect(parseClusterArgs(['--redis-cluster', '3', '--instances', '2'])).to.include({
      instances: 2,
      redisCluster: 3,
    });
  });

  it('prefixes whole lines, across chunk boundaries, and flushes a last partial line', async () => {
    const from = new PassThrough();
    const to = new PassThrough();
    let out = '';
    to.on('data', (c) => {
      out += c;
    });
    prefixLines(from, to, '[a] ');
    from.write('one\ntw');
    from.write('o\nthr');
    from.end('ee');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out).to.equal('[a] one\n[a] two\n[a] three\n');
  });
});
