/**
 * The console from outside, in Debian's chromium: ash (keyboard only) on instance A and misty on
 * instance B, each in their own browser context, and an admin. ash's move appears on misty's field
 * at the position the server reports; misty never sees a direct message ash sends to someone
 * else; the admin's operator view lists both users on their instances. Every view passes an
 * axe-core scan (no serious or critical violation), no console error, no request off localhost.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { openView, signIn, waitForLive, waitForText } from '../../scripts/lib/console-page.js';
import { axeScan } from '../support/browser-guard.js';
import { type ConsoleRig, endScenario, scanViews, startRig } from '../support/console-e2e.js';
import { describeWithRedis } from '../support/redis.js';
import { rpc } from '../support/rpc-load.js';

/** The position a trainer's element in the page shows (the server's figures, `data-*`). */
interface Shown {
  readonly x: number;
  readonly y: number;
  readonly version: number;
}

async function shown(page: Page, testid: string): Promise<Shown> {
  const el = page.getByTestId(testid);
  const attr = async (name: string) => Number(await el.getAttribute(name));
  return { x: await attr('data-x'), y: await attr('data-y'), version: await attr('data-version') };
}

/** Waits until `testid`'s `data-version` is at least `version`. */
async function versionReaches(page: Page, testid: string, version: number): Promise<void> {
  await page.waitForFunction(
    ([id, v]) =>
      Number(document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-version')) >= v,
    [testid, version] as const,
    { timeout: 15_000, polling: 50 },
  );
}

/** Presses Tab until the focused element is `testid` (at most `limit` times); how many it took. */
async function tabTo(page: Page, testid: string, limit = 60): Promise<number> {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    if (focused === testid) return presses;
  }
  throw new Error(`${testid} was not reached with ${limit} presses of Tab`);
}

/** The server's read model of `trainerId` once it has `version` (asked as its own user). */
async function serverTrainer(base: string, trainerId: string, version: number): Promise<Shown> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await rpc(base, 'trainer.get', { trainerId }, { 'x-user-id': trainerId });
    const t = body.result as { x: number; y: number; version: number } | undefined;
    if (t && t.version >= version) return { x: t.x, y: t.y, version: t.version };
    if (Date.now() > deadline) throw new Error(`trainer.get ${trainerId}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWithRedis('console: two users on two instances, and an admin', function () {
  this.timeout(120_000);
  const tag = randomBytes(3).toString('hex');
  const ash = `ash-${tag}`;
  const misty = `misty-${tag}`;
  const brock = `brock-${tag}`;
  let rig: ConsoleRig;

  before(async function () {
    // presence (users per instance) is rewritten every PRESENCE_TTL_MS / 3: 1 s here
    rig = await startRig(this, 2, { SSE_RETRY_MS: '300', PRESENCE_TTL_MS: '3000' });
  });

  after(async () => {
    await rig?.stop();
  });

  it('shows moves where the server says, keeps direct messages private, lists both users for the admin', async () => {
    const [a, b] = rig.cluster.members;
    const ashTab = await rig.tab();
    const mistyTab = await rig.tab();
    const adminTab = await rig.tab();

    // ash signs in with the keyboard only, on instance A
    await ashTab.page.goto(`${a!.url}/`);
    const signInScan = await axeScan(ashTab.page);
    await tabTo(ashTab.page, 'signin-user');
    await ashTab.page.keyboard.type(ash);
    await ashTab.page.keyboard.press('Enter');
    await waitForLive(ashTab.page);
    expect(await waitForText(ashTab.page, 'whoami')).to.include(ash);
    await signIn(mistyTab.page, b!.url, { user: misty });
    const ashServer = await waitForText(ashTab.page, 'conn-server');
    const mistyServer = await waitForText(mistyTab.page, 'conn-server');
    expect([ashServer, mistyServer]).to.deep.equal([a!.serverId, b!.serverId]);

    // ash moves with the arrow keys (start), then Space (stop)
    await tabTo(ashTab.page, 'field');
    await ashTab.page.keyboard.press('ArrowRight');
    await versionReaches(ashTab.page, 'own-position', 1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await ashTab.page.keyboard.press('Space');
    await versionReaches(ashTab.page, 'own-position', 2);
    const server = await serverTrainer(a!.url, ash, 2);
    await versionReaches(mistyTab.page, `trainer-${ash}`, server.version);
    const onMisty = await shown(mistyTab.page, `trainer-${ash}`);
    process.stdout.write(
      `      server: ${ash} at (${server.x}, ${server.y}) v${server.version}; misty's field: (${onMisty.x}, ${onMisty.y}) v${onMisty.version}\n`,
    );
    expect(server.x, 'ash moved right').to.be.greaterThan(0);
    expect(onMisty, "misty's field shows ash where the server says").to.deep.equal(server);
    expect(await shown(ashTab.page, 'own-position')).to.deep.equal(server);
    expect(await mistyTab.page.getByTestId(`trainer-${ash}`).textContent()).to.include(ash);
    await tabTo(mistyTab.page, `trainer-${ash}`, 200); // each trainer reachable by keyboard

    // misty moves with the on-screen buttons, from the keyboard; ash's field follows
    await tabTo(mistyTab.page, 'move-up', 200);
    await mistyTab.page.keyboard.press('Enter');
    await versionReaches(mistyTab.page, 'own-position', 1);
    await tabTo(mistyTab.page, 'move-stop', 200);
    await mistyTab.page.keyboard.press('Enter');
    await versionReaches(mistyTab.page, 'own-position', 2);
    const mistyServerPos = await serverTrainer(b!.url, misty, 2);
    await versionReaches(ashTab.page, `trainer-${misty}`, 2);
    expect(await shown(ashTab.page, `trainer-${misty}`)).to.deep.equal(mistyServerPos);

    // ash writes to brock first, then to misty: misty gets only hers (one stream, in order)
    await openView(ashTab.page, 'messages');
    await openView(mistyTab.page, 'messages');
    for (const [to, text] of [
      [brock, `for ${brock} only`],
      [misty, `hello ${misty}`],
    ] as const) {
      await ashTab.page.getByTestId('msg-target-type').selectOption('user');
      await ashTab.page.getByTestId('msg-target-ids').fill(to);
      await ashTab.page.getByTestId('msg-method').selectOption('message.chat');
      await ashTab.page.getByTestId('msg-text').fill(text);
      const before = await ashTab.page
        .getByTestId('msg-sent')
        .textContent()
        .catch(() => '');
      await ashTab.page.getByTestId('msg-send').click();
      await ashTab.page.waitForFunction(
        (was) => {
          const t = document.querySelector('[data-testid="msg-sent"]')?.textContent ?? '';
          return t.trim() !== '' && t !== was;
        },
        before ?? '',
        { timeout: 10_000 },
      );
      expect(await ashTab.page.getByTestId('msg-sent').textContent()).to.match(/[0-9a-f-]{36}/);
    }
    await waitForText(mistyTab.page, 'msg-inbox', new RegExp(`hello ${misty}`));
    const inbox = await mistyTab.page.getByTestId('msg-item').allTextContents();
    expect(inbox.join('\n'), "misty never sees ash's message to brock").not.to.include(brock);
    expect(inbox, 'exactly the one message to misty').to.have.length(1);
    expect(await mistyTab.page.getByTestId('msg-item').getAttribute('data-from')).to.equal(ash);
    const inboxScan = await axeScan(mistyTab.page); // messages with one arrived

    // the admin sees both users on their instances
    await signIn(adminTab.page, a!.url, { user: `oak-${tag}`, admin: true });
    await openView(adminTab.page, 'operator');
    await waitForText(adminTab.page, `ops-users-${ashServer}`, new RegExp(ash));
    await waitForText(adminTab.page, `ops-users-${mistyServer}`, new RegExp(misty));

    const scan = await scanViews(adminTab, [
      'field',
      'messages',
      'deployments',
      'history',
      'operator',
    ]);
    const findings = [...signInScan.findings, ...inboxScan.findings, ...scan.findings];
    process.stdout.write(
      `      axe: sign-in ${signInScan.passes} rules passed, misty's inbox ${inboxScan.passes}, the admin's five views ${scan.passes}; serious or critical: ${findings.length}\n`,
    );
    expect(findings, 'no serious or critical violations').to.deep.equal([]);
    await endScenario(rig, 'two-users');
  });
});
