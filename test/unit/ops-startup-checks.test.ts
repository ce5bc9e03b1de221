import { expect } from 'chai';
import { assessRedis, parseInfo, type RedisFacts } from '../../src/ops/index.js';

const good: RedisFacts = { version: '7.0.15', maxmemoryPolicy: 'noeviction', aofEnabled: true };

describe('start-up verdicts on INFO facts (src/ops/startup-checks.ts)', () => {
  it('accepts Redis 7 with noeviction and AOF', () => {
    expect(assessRedis(good)).to.deep.equal([]);
  });

  for (const policy of [
    'allkeys-lru',
    'allkeys-lfu',
    'allkeys-random',
    'volatile-lru',
    'volatile-lfu',
    'volatile-random',
    'volatile-ttl',
  ]) {
    it(`refuses maxmemory-policy ${policy} with the fix`, () => {
      const [finding, ...rest] = assessRedis({ ...good, maxmemoryPolicy: policy });
      expect(rest).to.deep.equal([]);
      expect(finding).to.include({ severity: 'refuse', check: 'maxmemory-policy' });
      expect(finding!.message)
        .to.include(`maxmemory-policy is ${policy}`)
        .and.include('Fix: set maxmemory-policy noeviction');
      expect(finding!.message).to.include(
        policy.startsWith('volatile') ? 'exactly-once records' : 'events and streams',
      );
    });
  }

  it('warns, without refusing, when AOF is off', () => {
    const findings = assessRedis({ ...good, aofEnabled: false });
    expect(findings).to.have.length(1);
    expect(findings[0]).to.include({ severity: 'warn', check: 'aof' });
    expect(findings[0]!.message).to.include('Fix: set appendonly yes');
  });

  it('refuses a Redis older than 7, refusals before warnings', () => {
    const findings = assessRedis({
      version: '6.2.14',
      maxmemoryPolicy: 'noeviction',
      aofEnabled: false,
    });
    expect(findings.map((f) => [f.severity, f.check])).to.deep.equal([
      ['refuse', 'redis-version'],
      ['warn', 'aof'],
    ]);
    expect(findings[0]!.message).to.include('Redis 6.2.14 is too old').and.include('Fix: upgrade');
  });

  it('reads INFO text', () => {
    const info = parseInfo(
      '# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nmaxmemory_policy:allkeys-lru\r\n# Persistence\r\naof_enabled:1\r\n',
    );
    expect(info).to.include({
      redis_version: '7.0.15',
      maxmemory_policy: 'allkeys-lru',
      aof_enabled: '1',
    });
  });
});
