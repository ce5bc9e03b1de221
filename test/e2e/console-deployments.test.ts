/**
 * Deployments from the console (seed 003, the simulated runner): connections made with the
 * prefilled example values, a deployment started from the page shows stages 1–6 as they happen,
 * in order, and COMPLETED; a `fail-at-stage-3` one stops at stage 3 with that stage's error code.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { openView, signIn, waitForText } from '../../scripts/lib/console-page.js';
import { STAGE_ERROR_CODES } from '../../src/domain/deployment/deployment.js';
import { axeScan } from '../support/browser-guard.js';
import { type ConsoleRig, endScenario, startRig } from '../support/console-e2e.js';
import { describeWithRedis } from '../support/redis.js';

/** What the page showed while a deployment ran, recorded in the page as it changed. */
interface Watched {
  /** Stage numbers in the order their elements appeared. */
  readonly appeared: number[];
  /** Every distinct `deploy-status` text, in order. */
  readonly statuses: string[];
}

/**
 * Starts recording stage elements and status changes in the page (`window.watched`), from when
 * `deploy-id` shows another deployment than now (the previous one's timeline is not counted).
 */
async function watchTimeline(page: Page): Promise<void> {
  // plain JavaScript: tsx would wrap the named functions of a callback in a helper the page lacks
  await page.evaluate(`(() => {
    const watched = { appeared: [], statuses: [] };
    window.watched = watched;
    const idNow = () => document.querySelector('[data-testid="deploy-id"]')?.textContent ?? '';
    const previous = idNow();
    const look = () => {
      if (idNow() === previous) return;
      for (const el of document.querySelectorAll('[data-testid^="deploy-stage-"]')) {
        const n = Number(el.getAttribute('data-testid').slice('deploy-stage-'.length));
        if (!watched.appeared.includes(n)) watched.appeared.push(n);
      }
      const status = document.querySelector('[data-testid="deploy-status"]')?.textContent?.trim();
      if (status && watched.statuses.at(-1) !== status) watched.statuses.push(status);
    };
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
    });
  })()`);
}

async function deploy(page: Page, repo: string): Promise<Watched> {
  await page.getByTestId('deploy-repo').fill(repo);
  await watchTimeline(page);
  await page.getByTestId('deploy-start').click();
  await waitForText(page, 'deploy-id');
  await waitForText(page, 'deploy-result-status', /COMPLETED|FAILED/, 60_000);
  return page.evaluate(() => (window as unknown as { watched: Watched }).watched);
}

/** The stages in the timeline, in document order, with their state. */
function stagesShown(page: Page): Promise<{ stage: number; state: string | null }[]> {
  return page.evaluate(() =>
    [
      ...document.querySelectorAll(
        '[data-testid="deploy-timeline"] [data-testid^="deploy-stage-"]',
      ),
    ].map((el) => ({
      stage: Number(el.getAttribute('data-testid')!.slice('deploy-stage-'.length)),
      state: el.getAttribute('data-state'),
    })),
  );
}

describeWithRedis('console: deployments from the page', function () {
  this.timeout(120_000);
  let rig: ConsoleRig;

  before(async function () {
    // each simulated step 150 ms: the stages take a few seconds, so the page sees them happen
    rig = await startRig(this, 1, { DEPLOY_SIM_STEP_MS: '150' });
  });

  after(async () => {
    await rig?.stop();
  });

  it('shows stages 1-6 in order as they happen and COMPLETED; fail-at-stage-3 fails with its code', async () => {
    const { page } = await rig.tab();
    await signIn(page, rig.cluster.members[0]!.url, { user: 'deployer' });
    await openView(page, 'deployments');
    await page.getByTestId('gh-connect').click();
    await waitForText(page, 'gh-connection');
    await page.getByTestId('aws-connect').click();
    await waitForText(page, 'aws-connection');

    const done = await deploy(page, 'web-app');
    const completed = await stagesShown(page);
    process.stdout.write(
      `      completed: stages appeared ${done.appeared.join(',')}, statuses ${done.statuses.join(' → ')}\n`,
    );
    expect(done.appeared, 'each stage appeared once, in order').to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(done.statuses, 'seen running before the result').to.include('RUNNING');
    expect(done.statuses.at(-1)).to.equal('COMPLETED');
    expect(completed).to.deep.equal([1, 2, 3, 4, 5, 6].map((stage) => ({ stage, state: 'done' })));
    expect(await page.getByTestId('deploy-result-status').textContent()).to.equal('COMPLETED');
    await expectNoErrorCode(page);

    const failed = await deploy(page, 'fail-at-stage-3');
    process.stdout.write(
      `      failed: stages appeared ${failed.appeared.join(',')}, statuses ${failed.statuses.join(' → ')}\n`,
    );
    expect(failed.appeared).to.deep.equal([1, 2, 3]);
    expect(await stagesShown(page)).to.deep.equal([
      { stage: 1, state: 'done' },
      { stage: 2, state: 'done' },
      { stage: 3, state: 'failed' },
    ]);
    expect(await page.getByTestId('deploy-result-status').textContent()).to.equal('FAILED');
    expect(await page.getByTestId('deploy-error-code').textContent()).to.equal(
      STAGE_ERROR_CODES[3],
    );
    const scan = await axeScan(page); // the view with a timeline, a result and an error code
    expect(scan.findings, 'no serious or critical violations').to.deep.equal([]);
    await endScenario(rig, 'deployments');
  });
});

async function expectNoErrorCode(page: Page): Promise<void> {
  expect(await page.getByTestId('deploy-error-code').count(), 'no error code on success').to.equal(
    0,
  );
}
