/**
 * Redis restart under load: AOF on with `appendfsync always`, `redis-server` SIGKILLed and started
 * again on its data while three instances take moves and SSE clients follow trainer streams.
 * Every answered command is in the log exactly once; instances turn not ready and ready again
 * without a restart; SSE clients miss and repeat nothing (or get stream.reset).
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { keysFor } from '../../src/events/keys.js';
import { eventsByCommand } from '../support/global-log.js';
import { startMoves } from '../support/moves.js';
import { readyStatus } from '../support/readiness.js';
import { describeWithRedisServer } from '../support/redis.js';
import { restartRigs, StreamFollower } from '../support/restart.js';

const TRAINERS = 6;
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedisServer('Redis restart under load (AOF, appendfsync always)', function () {
  this.timeout(120_000);
  const startRig = restartRigs();

  it('keeps every answered command once, recovers instances and SSE clients without a restart', async () => {
    const rig = await startRig(AOF, 'restart');
    const { apps, urls } = rig;
    const stopWatching = rig.watchReadiness();

    const load = startMoves({ urls: () => urls, trainers: TRAINERS, inFlight: 6 });
    await sleep(1000); // every trainer has events before the clients follow
    // three stay on instance 0; three start on instance 1 and move to instance 2 during the
    // outage (its first stream request comes while Redis is away)
    const followers = Array.from(
      { length: TRAINERS },
      (_, i) => new StreamFollower(urls, `t${i}`, i < 3 ? 0 : 1),
    );
    await sleep(1500);

    const answeredBefore = load.answers.length;
    const killedAt = Date.now();
    await rig.server.stop(); // SIGKILL
    await sleep(600);
    for (const f of followers.slice(3)) f.moveTo(2);
    await sleep(3400);
    await rig.restartRedis();
    const downMs = Date.now() - killedAt;
    for (const app of apps) expect(await readyStatus(app.url, 30_000), app.url).to.equal(200);
    await sleep(2000);
    await load.stop();

    // the log: every answered command once, every trainer stream without a gap
    const redis = new Redis(rig.server.url);
    try {
      const byCommand = await eventsByCommand(redis, 'restart');
      const answered = load.answers.map((a) => a.commandId);
      const lost = answered.filter((id) => !byCommand.has(id));
      const doubled = answered.filter((id) => (byCommand.get(id) ?? 0) > 1);
      const keys = keysFor('restart');
      const heads: number[] = [];
      for (let i = 0; i < TRAINERS; i++) {
        const entries = await redis.xrange(keys.stream(`trainer-t${i}`), '-', '+');
        heads.push(entries.length);
      }
      // the SSE clients: everything up to each stream's head, once, in order (or a reset)
      for (const [i, f] of followers.entries()) {
        const deadline = Date.now() + 15_000;
        while ((f.versions.at(-1) ?? 0) < heads[i]! && Date.now() < deadline) await sleep(100);
      }
      for (const f of followers) f.stop();
      const missing = followers.map((f, i) => {
        const want = Array.from(
          { length: heads[i]! - (f.versions[0] ?? 1) + 1 },
          (_, v) => v + (f.versions[0] ?? 1),
        );
        return want.filter((v) => !f.versions.includes(v)).length;
      });
      const repeated = followers.map((f) => f.versions.length - new Set(f.versions).size);
      const seen = await stopWatching();
      process.stdout.write(
        `      Redis down ${downMs} ms; ${answered.length} moves answered (${answeredBefore} before the kill), ${load.retries} failed tries retried with the same command id, ${lost.length} lost, ${doubled.length} doubled; SSE: ${followers.map((f) => f.versions.length).join('/')} events, ${missing.reduce((a, b) => a + b)} missing, ${repeated.reduce((a, b) => a + b)} repeated, ${followers.reduce((a, f) => a + f.resets, 0)} resets, reconnects ${followers.map((f) => f.reconnects).join('/')} (the last 3 moved); readiness ${seen.map((x) => x.join('→')).join(', ')}\n`,
      );
      expect(load.retries, 'the fault must bite: some call failed').to.be.greaterThan(0);
      expect(followers.map((f) => f.gaveUp ?? 'following')).to.deep.equal(
        followers.map(() => 'following'),
      );
      expect(lost).to.deep.equal([]);
      expect(doubled).to.deep.equal([]);
      // a client told stream.reset refetches its state: only the others must miss nothing
      const unreset = (counts: number[]) => counts.map((n, i) => (followers[i]!.resets ? 0 : n));
      expect(unreset(missing), 'events missed per client').to.deep.equal([0, 0, 0, 0, 0, 0]);
      expect(unreset(repeated), 'events repeated per client').to.deep.equal([0, 0, 0, 0, 0, 0]);
      for (const statuses of seen) expect(statuses).to.deep.equal([200, 503, 200]);
    } finally {
      redis.disconnect();
    }
  });
});
