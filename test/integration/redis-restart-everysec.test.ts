/**
 * Redis losing acknowledged writes (AOF with `appendfsync everysec`, the Redis default): the loss
 * is detected and reported (DESIGN.md G5): an error log line and `streamcast_event_log_losses` on
 * every instance, `/readyz` failing, a new notifications epoch and `stream.reset` to the `/events`
 * clients that were ahead — and the instances take moves again at once, without a restart.
 */
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { RpcClient } from '../../src/client/index.js';
import { eventsByCommand } from '../support/global-log.js';
import { startMoves } from '../support/moves.js';
import { parseExposition, sampleValue } from '../support/prometheus.js';
import { describeWithRedisServer } from '../support/redis.js';
import { restartRigs, StreamFollower } from '../support/restart.js';

const TRAINERS = 6;
// no AOF rewrite during the test: the incremental file stays the one whose tail is cut below
const AOF = [
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--auto-aof-rewrite-percentage',
  '0',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The AOF file Redis appends to now (Redis 7: `appendonlydir/<name>.<n>.incr.aof`). */
function incrementalAof(dir: string): string {
  const aofDir = join(dir, 'appendonlydir');
  const name = readdirSync(aofDir).find((f) => f.endsWith('.incr.aof'));
  if (!name) throw new Error(`no incremental AOF in ${aofDir}`);
  return join(aofDir, name);
}

async function lossesOn(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return sampleValue(parseExposition(text), 'streamcast_event_log_losses') ?? Number.NaN;
}

/** How often each `command.status` answers for `commandIds`, asked of `url` as their sender. */
async function statusesOf(url: string, commandIds: readonly [string, string][]) {
  const counts: Record<string, number> = {};
  for (const [userId, commandId] of commandIds) {
    const client = new RpcClient({ url, headers: { 'X-User-Id': userId } });
    const { status } = await client.call<{ status: string }>('command.status', { commandId });
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

describeWithRedisServer(
  'Redis losing acknowledged writes (AOF, appendfsync everysec)',
  function () {
    this.timeout(60_000);
    const startRig = restartRigs();

    it('detects and reports the loss; instances and SSE clients carry on', async () => {
      const rig = await startRig(AOF, 'everysec');
      const { apps, urls } = rig;
      const stopWatching = rig.watchReadiness();
      const load = startMoves({ urls: () => urls, trainers: TRAINERS, inFlight: 6 });
      // each trainer follows its notifications (`/events`, ids `<epoch>:<entry>`) on one instance
      const followers = Array.from(
        { length: TRAINERS },
        (_, i) => new StreamFollower(urls, `t${i}`, i % 3, '/events'),
      );
      await sleep(1500);

      // A SIGKILL of redis-server alone loses nothing under everysec: what it wrote is in the
      // kernel's page cache, which outlives the process. What everysec loses is what a machine
      // crash takes — the AOF's tail written after the last fsync (up to about a second). The
      // disk as such a crash leaves it is made here, deterministically: the AOF's size is noted,
      // moves go on being answered for a second, Redis is SIGKILLed and its AOF cut back to the
      // noted size. Every move answered in that second was acknowledged and is gone.
      const aof = incrementalAof(rig.dir);
      const durableSize = statSync(aof).size;
      const answeredDurable = load.answers.length;
      await sleep(1000);
      await rig.server.stop(); // SIGKILL
      const answeredAtKill = load.answers.length;
      const cut = statSync(aof).size - durableSize;
      truncateSync(aof, durableSize);
      await rig.restartRedis();
      await sleep(4000); // moves go on; the checks (log every 500 ms, epoch every 2 s) run
      await load.stop();

      const redis = new Redis(rig.server.url);
      try {
        const byCommand = await eventsByCommand(redis, 'everysec');
        const answers = load.answers;
        const lost = answers.filter((a) => !byCommand.has(a.commandId));
        const losses = await Promise.all(urls.map(lossesOn));
        const logLines = apps.map((a) => count(a.output(), /the event log went back/g));
        const epochLines = apps.map((a) => count(a.output(), /notifications stream lost data/g));
        // what `command.status` says of the lost ones (asked of the instance that answered none
        // in particular; at most 30)
        const statuses = await statusesOf(
          urls[0]!,
          lost.slice(0, 30).map((a) => [a.trainerId, a.commandId]),
        );
        const afterReset = followers.map((f) => f.ids.length - f.idsAtReset);
        for (const f of followers) f.stop();
        const seen = await stopWatching();
        const ready = await Promise.all(
          urls.map((u) => fetch(`${u}/readyz`).then((r) => r.json() as Promise<unknown>)),
        );
        process.stdout.write(
          `      ${answers.length} moves answered (${answeredDurable} before the AOF's last ${cut} bytes, ${answeredAtKill} before the kill, ${answers.length - answeredAtKill} after), ${lost.length} answered and lost, ${load.deadLettered.length} dead-lettered; detected: streamcast_event_log_losses ${losses.join('/')}, error lines ${logLines.join('/')}, epoch renewals logged ${epochLines.join('/')}; command.status of ${lost.slice(0, 30).length} lost: ${JSON.stringify(statuses)}; SSE: stream.reset ${followers.map((f) => f.resets).join('/')}, then ${afterReset.join('/')} events; readiness ${seen.map((x) => x.join('→')).join(', ')}\n`,
        );
        expect(lost.length, 'the fault must bite: an answered move was lost').to.be.greaterThan(0);
        expect(losses, 'every instance counted the loss').to.deep.equal([1, 1, 1]);
        expect(logLines, 'every instance logged it').to.deep.equal([1, 1, 1]);
        expect(epochLines, 'every instance took the new epoch').to.deep.equal([1, 1, 1]);
        expect(
          followers.map((f) => [f.gaveUp ?? 'following', f.resets]),
          'every client was told once',
        ).to.deep.equal(followers.map(() => ['following', 1]));
        expect(
          afterReset.every((n) => n > 0),
          'every client receives after its reset',
        ).to.equal(true);
        // nothing claims a lost move was handled: Redis forgot it ('unknown'), or forgot only its
        // outcome and acknowledgement, so the command is redelivered after COMMAND_CLAIM_IDLE_MS
        // and decided again ('pending')
        expect(statuses).to.not.have.any.keys('handled', 'dead');
        expect(statuses.unknown, 'the lost ones are unknown').to.be.greaterThan(0);
        // the instances take moves again without a restart (none dead-lettered on stale state)
        expect(load.deadLettered).to.deep.equal([]);
        expect(answers.length - answeredAtKill).to.be.greaterThan(100);
        // ready before the kill, then not ready: for a minute after the loss (not waited here)
        for (const statuses of seen)
          expect([statuses[0], statuses.at(-1)]).to.deep.equal([200, 503]);
        for (const body of ready) {
          expect(body).to.have.nested.property('failing[0].name', 'event-log');
        }
      } finally {
        redis.disconnect();
      }
    });
  },
);
