import { expect } from 'chai';
import {
  type CommandEnvelope,
  type CommandHandler,
  CommandRuntime,
  type WorkerStats,
} from '../../src/commands/index.js';
import { DomainRuleError } from '../../src/errors.js';
import { ANY, DEFAULT_STORE_SETTINGS, MemoryEventStore } from '../../src/events/index.js';
import { Metrics } from '../../src/metrics.js';
import { meterBacklog, meterCommands, meterInstance, meterWorker } from '../../src/ops/index.js';
import { parseExposition, sampleValue } from '../support/prometheus.js';

const command = (type: string): CommandEnvelope => ({
  id: crypto.randomUUID(),
  type,
  data: null,
  metadata: { commandId: '', userId: 'u', correlationId: 'c', timestamp: new Date().toISOString() },
});

async function scrape(metrics: Metrics) {
  return parseExposition((await metrics.exposition()).text);
}

describe('metrics (src/metrics.ts, src/ops/command-metrics.ts)', () => {
  it('exposes valid Prometheus text with process metrics and server_id on every sample', async () => {
    const metrics = new Metrics({ serverId: 'm-1' });
    const { contentType } = await metrics.exposition();
    expect(contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const exposition = await scrape(metrics);
    expect(exposition.types.get('process_cpu_user_seconds_total')).to.equal('counter');
    expect(exposition.samples.length).to.be.greaterThan(20);
    expect(exposition.samples.every((s) => s.labels.server_id === 'm-1')).to.equal(true);
  });

  it('returns the metric registered first when a name is registered again', () => {
    const metrics = new Metrics({ serverId: 'm', processMetrics: false });
    const a = metrics.gauge({ name: 'streamcast_test_gauge', help: 'x' });
    const b = metrics.gauge({ name: 'streamcast_test_gauge', help: 'x' });
    expect(a).to.equal(b);
  });

  it('counts handler runs by type and outcome and times them', async () => {
    const metrics = new Metrics({ serverId: 'm', processMetrics: false });
    const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'm' });
    const runtime = new CommandRuntime(store, { observe: meterCommands(metrics) });
    const ok: CommandHandler = async () => ({
      kind: 'append',
      streamId: 'trainer-ash',
      expectedVersion: ANY,
      expectedByClient: false,
      events: [{ type: 'Did', data: null }],
      notifications: [],
      result: null,
    });
    const handlers: Record<string, CommandHandler> = {
      Ok: ok,
      Rule: async () => {
        throw new DomainRuleError('rule', 'no');
      },
      Broken: async () => {
        throw new Error('redis went away');
      },
    };
    const handle = (type: string) => runtime.handle(handlers[type]!, command(type));
    await handle('Ok');
    await handle('Ok');
    await handle('Rule');
    const thrown = await handle('Broken').catch((e: Error) => e);
    expect(thrown).to.be.instanceOf(Error).with.property('message', 'redis went away');
    const e = await scrape(metrics);
    const runs = (type: string, outcome: string) =>
      sampleValue(e, 'streamcast_commands_handled_total', { type, outcome });
    expect(runs('Ok', 'ok')).to.equal(2);
    expect(runs('Rule', 'rejected')).to.equal(1);
    expect(runs('Broken', 'failed')).to.equal(1);
    expect(sampleValue(e, 'streamcast_command_handling_seconds_count', { type: 'Ok' })).to.equal(2);
  });

  it("mirrors a worker's own counters at scrape time, and skips a worker without them", async () => {
    const metrics = new Metrics({ serverId: 'm', processMetrics: false });
    const stats: WorkerStats = {
      handled: 0,
      retried: 1,
      dead: 2,
      reclaimed: 3,
      redelivered: 4,
    };
    meterWorker({ close: async () => {}, stats } as never, metrics);
    meterWorker({ close: async () => {} }, metrics);
    expect(sampleValue(await scrape(metrics), 'streamcast_commands_dead_total')).to.equal(2);
    stats.dead = 5;
    stats.reclaimed = 4;
    const e = await scrape(metrics);
    expect(sampleValue(e, 'streamcast_commands_dead_total')).to.equal(5);
    expect(sampleValue(e, 'streamcast_commands_reclaimed_total')).to.equal(4);
    expect(sampleValue(e, 'streamcast_commands_redelivered_total')).to.equal(4);
    expect(sampleValue(e, 'streamcast_commands_retried_total')).to.equal(1);
  });

  it('reads the backlog once per scrape, and keeps the last values while the store is unreachable', async () => {
    const metrics = new Metrics({ serverId: 'm', processMetrics: false });
    let reads = 0;
    let up = true;
    meterBacklog(
      async () => {
        reads += 1;
        return { pending: 3, lag: 7, dead: 1 };
      },
      () => up,
      metrics,
    );
    let e = await scrape(metrics);
    expect(reads).to.equal(1);
    expect(sampleValue(e, 'streamcast_command_group_pending')).to.equal(3);
    expect(sampleValue(e, 'streamcast_command_group_lag')).to.equal(7);
    expect(sampleValue(e, 'streamcast_dead_letters')).to.equal(1);
    up = false;
    await new Promise((resolve) => setTimeout(resolve, 600));
    e = await scrape(metrics);
    expect(reads).to.equal(1);
    expect(sampleValue(e, 'streamcast_command_group_lag')).to.equal(7);
  });

  it('shows readiness and each readiness check', async () => {
    const metrics = new Metrics({ serverId: 'm', processMetrics: false });
    let redisOk = true;
    meterInstance(metrics, { version: '1.2.3', store: 'redis' }, [
      { name: 'shutdown', check: () => ({ ok: true }) },
      { name: 'redis', check: () => (redisOk ? { ok: true } : { ok: false, reason: 'down' }) },
    ]);
    let e = await scrape(metrics);
    expect(sampleValue(e, 'streamcast_info', { version: '1.2.3', store: 'redis' })).to.equal(1);
    expect(sampleValue(e, 'streamcast_ready')).to.equal(1);
    redisOk = false;
    e = await scrape(metrics);
    expect(sampleValue(e, 'streamcast_ready')).to.equal(0);
    expect(sampleValue(e, 'streamcast_readiness_check', { check: 'redis' })).to.equal(0);
    expect(sampleValue(e, 'streamcast_readiness_check', { check: 'shutdown' })).to.equal(1);
  });
});

describe('the Prometheus text checker (test/support/prometheus.ts)', () => {
  const valid = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  it('accepts valid text and refuses what the format forbids', () => {
    expect(parseExposition(valid).samples).to.deep.equal([
      { name: 'a_total', labels: { x: '1' }, value: 2 },
    ]);
    for (const bad of [
      'a_total 1\n', // no TYPE
      valid.slice(0, -1), // no final newline
      `${valid}a_total{x="1"} 3\n`, // the same series twice
      '# TYPE a counter\na{x=1} 1\n', // unquoted label value
      '# TYPE a counter\na one\n', // not a number
      '# TYPE a counter\n# TYPE a counter\n', // TYPE twice
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n',
    ]) {
      expect(() => parseExposition(bad), bad).to.throw();
    }
  });
});
