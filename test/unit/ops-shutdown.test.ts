import { expect } from 'chai';
import { silentLogger } from '../../src/log.js';
import { GracefulShutdown, readinessDrainMs, sleepUntil } from '../../src/ops/index.js';

function recorder() {
  const exits: number[] = [];
  return { exits, exit: (code: number) => void exits.push(code) };
}

describe('graceful shutdown (src/ops/shutdown.ts)', () => {
  it('runs the steps once, in order, then exits with the code given', async () => {
    const { exits, exit } = recorder();
    const ran: string[] = [];
    const shutdown = new GracefulShutdown({ graceMs: 1000, logger: silentLogger, exit });
    for (const name of ['drain', 'http', 'commands', 'redis']) {
      shutdown.add({ name, run: async () => void ran.push(name) });
    }
    expect(shutdown.started).to.equal(false);
    const first = shutdown.begin('SIGTERM');
    const second = shutdown.begin('SIGINT', 1);
    expect(shutdown.started).to.equal(true);
    await Promise.all([first, second]);
    expect(ran).to.deep.equal(['drain', 'http', 'commands', 'redis']);
    expect(exits).to.deep.equal([0]);
  });

  it('goes on with the next step when one fails', async () => {
    const { exits, exit } = recorder();
    const ran: string[] = [];
    await new GracefulShutdown({ graceMs: 1000, logger: silentLogger, exit })
      .add({
        name: 'broken',
        run: async () => {
          throw new Error('boom');
        },
      })
      .add({ name: 'redis', run: async () => void ran.push('redis') })
      .begin('SIGTERM', 1);
    expect(ran).to.deep.equal(['redis']);
    expect(exits).to.deep.equal([1]);
  });

  it('gives each step the deadline of the grace time', async () => {
    const { exit } = recorder();
    const deadlines: number[] = [];
    const before = Date.now();
    await new GracefulShutdown({ graceMs: 5000, logger: silentLogger, exit })
      .add({ name: 'a', run: async (d) => void deadlines.push(d) })
      .add({ name: 'b', run: async (d) => void deadlines.push(d) })
      .begin('SIGTERM');
    expect(deadlines[0]).to.equal(deadlines[1]);
    expect(deadlines[0]).to.be.within(before + 5000, Date.now() + 5000);
  });

  it('exits with 1 when the steps outlast the grace time and its margin', async () => {
    const { exits, exit } = recorder();
    void new GracefulShutdown({ graceMs: 50, closeMarginMs: 50, logger: silentLogger, exit })
      .add({ name: 'hangs', run: () => new Promise(() => {}) })
      .begin('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(exits).to.deep.equal([1]);
  });

  it('keeps readiness at 503 for a fifth of the grace time, at most 2 s', async () => {
    expect(readinessDrainMs(10_000)).to.equal(2000);
    expect(readinessDrainMs(5000)).to.equal(1000);
    expect(readinessDrainMs(0)).to.equal(0);
    const start = Date.now();
    await sleepUntil(10_000, start + 30);
    expect(Date.now() - start).to.be.lessThan(5000);
  });
});
