/**
 * Resume in the console: the page comes through nginx (deploy/nginx, rendered) in front of three
 * instances; the instance holding its stream is SIGKILLed while moves keep arriving; the page
 * reconnects through nginx to another one and, once the moves stop, the updates it applied equal
 * the `position.update` notifications the server produced after it opened (counted in the
 * notification log): none missed, none twice.
 */
import { expect } from 'chai';
import { counterReaches, counters, openView, signIn } from '../../scripts/lib/console-page.js';
import { keysFor } from '../../src/events/keys.js';
import { type ConsoleRig, endScenario, startRig } from '../support/console-e2e.js';
import { startMoves } from '../support/moves.js';
import { type Nginx, requireNginx, startNginx } from '../support/nginx.js';
import { describeWithRedis, testClient } from '../support/redis.js';
import { until } from '../support/rpc-load.js';

/**
 * Network errors Chromium logs when the test kills the page's instance on purpose: the stream
 * cut mid-response, or nginx's 502 for a request that instance was serving.
 */
const KILLED_CONNECTION = [
  /net::ERR_INCOMPLETE_CHUNKED_ENCODING/,
  /net::ERR_EMPTY_RESPONSE/,
  /net::ERR_CONNECTION_(RESET|REFUSED|CLOSED)/,
  /status of 502 \(Bad Gateway\)/,
];

describeWithRedis('console: the page resumes across a SIGKILL of its instance', function () {
  this.timeout(120_000);
  let rig: ConsoleRig;
  let nginx: Nginx | undefined;
  let redis: ReturnType<typeof testClient>;

  before(async function () {
    requireNginx(this);
    redis = testClient();
    rig = await startRig(this, 3, { SSE_RETRY_MS: '300', COMMAND_CLAIM_IDLE_MS: '1000' });
    nginx = await startNginx(rig.cluster.members.map((m) => new URL(m.url).host));
  });

  after(async () => {
    await nginx?.stop();
    await rig?.stop();
    redis?.disconnect();
  });

  it('applies every update produced after it opened exactly once', async () => {
    const { page } = await rig.tab();
    const notify = keysFor(rig.prefix).notify;
    await signIn(page, nginx!.url, { user: 'watcher' });
    await openView(page, 'field');
    const opened = await counters(page);
    const [last] = await redis.xrevrange(notify, '+', '-', 'COUNT', 1);
    const since = last?.[0] ?? '0-0';

    const moves = startMoves({ urls: () => [nginx!.url], trainers: 3, inFlight: 2 });
    expect(await counterReaches(page, 'updates-applied', opened.applied + 25, 15_000)).to.equal(
      true,
    );
    const holder = (await counters(page)).server;
    const victim = rig.cluster.members.find((m) => m.serverId === holder);
    expect(victim, `the page's instance ${holder} is one of the cluster's`).not.to.equal(undefined);
    const killedAt = Date.now();
    process.kill(victim!.pid, 'SIGKILL');
    const kills = 1;
    await rig.cluster.waitForLine(new RegExp(`\\[cluster\\] ${victim!.serverId} exited`), 10_000);
    const answeredAtKill = moves.answers.length;
    await page.waitForFunction(
      (dead) => {
        const server = document.querySelector('[data-testid="conn-server"]')?.textContent?.trim();
        const state = document
          .querySelector('[data-testid="conn-state"]')
          ?.getAttribute('data-state');
        return state === 'live' && server !== '' && server !== dead;
      },
      victim!.serverId,
      { timeout: 20_000, polling: 50 },
    );
    const resumedAfterMs = Date.now() - killedAt;
    await until(() => moves.answers.length >= answeredAtKill + 40, 20_000);
    await moves.stop();

    const produced = await positionUpdatesAfter(redis, notify, since);
    await counterReaches(page, 'updates-applied', opened.applied + produced, 15_000);
    const end = await counters(page);
    const applied = end.applied - opened.applied;
    process.stdout.write(
      `      moves answered ${moves.answers.length} (${moves.retries} retried); produced ${produced}, applied ${applied}, stale ${end.stale}; kills ${kills}, connections ${end.connections}, resumed on ${end.server} from ${end.resumedFrom} ${resumedAfterMs} ms after the SIGKILL\n`,
    );
    expect(produced, 'one update per answered move').to.equal(moves.answers.length);
    expect(applied, 'applied = produced after the page opened').to.equal(produced);
    expect(end.stale - opened.stale, 'none applied twice or out of order').to.equal(0);
    expect(end.resets, 'no stream.reset').to.equal(opened.resets);
    expect(end.connections, 'reconnected').to.be.at.least(opened.connections + 1);
    expect(end.server).not.to.equal(victim!.serverId);
    expect(end.resumedFrom, 'resumed from an id').not.to.equal('');
    expect(moves.answers.length - answeredAtKill, 'moves after the kill').to.be.at.least(40);
    await endScenario(rig, 'resume', KILLED_CONNECTION);
  });
});

/** `position.update` entries of the notification log after `afterId`. */
async function positionUpdatesAfter(
  redis: ReturnType<typeof testClient>,
  key: string,
  afterId: string,
): Promise<number> {
  let count = 0;
  let from = `(${afterId}`;
  for (;;) {
    const batch = await redis.xrange(key, from, '+', 'COUNT', 1000);
    for (const [, fields] of batch) {
      const at = fields.indexOf('method');
      if (at >= 0 && at % 2 === 0 && fields[at + 1] === 'position.update') count += 1;
    }
    if (batch.length < 1000) return count;
    from = `(${batch.at(-1)![0]}`;
  }
}
