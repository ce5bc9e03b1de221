/**
 * `stream.reset` in the console: an admin's page comes through nginx; its instance is SIGKILLed
 * while the page's reconnections are held off (the test aborts its `/events` requests), and
 * meanwhile more moves are made than the notification log keeps (NOTIFY_RETENTION=10, trimmed
 * approximately, so a few hundred). Let through, the page resumes from an id the log no longer
 * has: it gets `stream.reset`, says so, refetches, and then shows every trainer where the server
 * says.
 */
import { expect } from 'chai';
import {
  counterReaches,
  counters,
  openView,
  signIn,
  waitForLive,
  waitForText,
} from '../../scripts/lib/console-page.js';
import { type ConsoleRig, endScenario, startRig } from '../support/console-e2e.js';
import { startMoves } from '../support/moves.js';
import { type Nginx, requireNginx, startNginx } from '../support/nginx.js';
import { describeWithRedis } from '../support/redis.js';
import { rpc } from '../support/rpc-load.js';

interface Listed {
  readonly trainerId: string;
  readonly x: number;
  readonly y: number;
  readonly version: number;
}

/** The moved trainers (`t<n>`) as the read model has them (asked as an admin). */
async function listTrainers(base: string): Promise<Listed[]> {
  const headers = { 'x-user-id': 'oak', 'x-user-roles': 'admin' };
  const { body } = await rpc(base, 'trainer.list', { limit: 1000 }, headers);
  const listed = (body.result as { trainers?: Listed[] } | undefined)?.trainers ?? [];
  return listed.filter((t) => /^t\d+$/.test(t.trainerId));
}

/** Resolves once `condition()` holds; rejects after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const TRAINERS = 4;
const MOVES_WHILE_AWAY = 400;

/** What Chromium logs for the page's `/events` requests the test aborts or cuts on purpose. */
const HELD_OFF = [
  /net::ERR_FAILED/,
  /net::ERR_INCOMPLETE_CHUNKED_ENCODING/,
  /status of 502 \(Bad Gateway\)/,
];

describeWithRedis('console: a stream.reset is handled by refetching, and said', function () {
  this.timeout(120_000);
  let rig: ConsoleRig;
  let nginx: Nginx | undefined;

  before(async function () {
    requireNginx(this);
    rig = await startRig(this, 2, { NOTIFY_RETENTION: '10', SSE_RETRY_MS: '300' });
    nginx = await startNginx(rig.cluster.members.map((m) => new URL(m.url).host));
  });

  after(async () => {
    await nginx?.stop();
    await rig?.stop();
  });

  it('refetches every trainer after the reset and shows them where the server says', async () => {
    const { page } = await rig.tab();
    await signIn(page, nginx!.url, { user: 'oak', admin: true });
    await openView(page, 'field');
    // a few moves first, so the page has an id to resume from
    const first = startMoves({
      urls: () => [nginx!.url],
      trainers: TRAINERS,
      inFlight: 2,
      limit: 8,
    });
    await first.done;
    expect(
      await counterReaches(page, 'updates-applied', 8, 15_000),
      'the first 8 applied',
    ).to.equal(true);
    const opened = await counters(page);
    const holder = rig.cluster.members.find((m) => m.serverId === opened.server)!;
    const other = rig.cluster.members.find((m) => m !== holder)!;

    let heldOff = 0;
    const isEvents = (url: URL) => url.pathname === '/events';
    await page.route(isEvents, (route) => {
      heldOff += 1;
      return route.abort('failed');
    });
    process.kill(holder.pid, 'SIGKILL');
    await rig.cluster.waitForLine(new RegExp(`\\[cluster\\] ${holder.serverId} exited`), 10_000);
    const moves = startMoves({
      urls: () => [other.url],
      trainers: TRAINERS,
      inFlight: 8,
      limit: MOVES_WHILE_AWAY,
    });
    await moves.done;
    // the moves may all be answered before the page's first retry: wait for one to be held off
    await until(async () => heldOff > 0, 15_000).catch(() => {});
    expect(heldOff, 'the page tried to reconnect while held off').to.be.greaterThan(0);
    // the read model has every move before the page refetches it
    await until(async () => {
      const trainers = await listTrainers(other.url);
      return trainers.reduce((sum, t) => sum + t.version, 0) === MOVES_WHILE_AWAY + 8;
    }, 20_000);
    await page.unroute(isEvents); // the same matcher: unroute matches by it

    await waitForText(page, 'conn-reset-notice', /state refetched/, 20_000).catch(async (e) => {
      process.stdout.write(
        `DEBUG ${JSON.stringify(await counters(page))} ${JSON.stringify(page.context() && rig.tabs[0]!.problems)}\n`,
      );
      throw e;
    });
    await waitForLive(page);
    const after = await counters(page);
    const moved = await listTrainers(other.url);
    const shown = await Promise.all(
      moved.map(async (t) => {
        const el = page.getByTestId(`trainer-${t.trainerId}`);
        return {
          trainerId: t.trainerId,
          x: Number(await el.getAttribute('data-x')),
          y: Number(await el.getAttribute('data-y')),
          version: Number(await el.getAttribute('data-version')),
        };
      }),
    );
    process.stdout.write(
      `      ${moves.answers.length} moves while held off (${heldOff} reconnections aborted); resets ${after.resets}, notice "${await page.getByTestId('conn-reset-notice').textContent()}", trainers ${after.trainers}, on ${after.server}\n`,
    );
    expect(moves.answers.length).to.equal(MOVES_WHILE_AWAY);
    expect(after.resets - opened.resets, 'one stream.reset handled').to.equal(1);
    expect(after.server).to.equal(other.serverId);
    expect(moved, 'the trainers moved').to.have.length(TRAINERS);
    expect(shown, 'each trainer where the server says').to.deep.equal(
      moved.map(({ trainerId, x, y, version }) => ({ trainerId, x, y, version })),
    );
    await endScenario(rig, 'reset', HELD_OFF);
  });
});
