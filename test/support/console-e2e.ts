/**
 * What every console browser test sets up: `npm run cluster` on the test Redis (own key prefix),
 * Debian's chromium, guarded tabs (test/support/browser-guard.ts), and the end of a scenario: a
 * screenshot of each tab, then no unexpected console error, page error or request off localhost.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { openView, type View } from '../../scripts/lib/console-page.js';
import {
  type AxeFinding,
  axeScan,
  type GuardedTab,
  guardedTab,
  saveScreenshot,
  unexpectedProblems,
} from './browser-guard.js';
import { launchChromium, requireChromium } from './chromium.js';
import { type ClusterProcess, startCluster } from './cluster-process.js';
import { testRedisUrl, uniquePrefix } from './redis.js';

/** A running console test: instances, a browser and the tabs opened so far. */
export interface ConsoleRig {
  readonly cluster: ClusterProcess;
  readonly prefix: string;
  readonly browser: Browser;
  readonly tabs: GuardedTab[];
  /** A new guarded tab (its own context: its own sessionStorage, so its own user). */
  tab(): Promise<GuardedTab>;
  stop(): Promise<void>;
}

/** In a `before` hook: `count` instances with `env`, and chromium (skips locally without it). */
export async function startRig(
  context: Mocha.Context,
  count: number,
  env: Record<string, string> = {},
): Promise<ConsoleRig> {
  requireChromium(context);
  const prefix = uniquePrefix('console');
  const cluster = await startClusterRetrying(count, {
    REDIS_URL: testRedisUrl(),
    KEY_PREFIX: prefix,
    SECRET_KEY: randomBytes(32).toString('base64'),
    ...env,
  });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await stopCluster(cluster);
    throw error;
  }
  const tabs: GuardedTab[] = [];
  return {
    cluster,
    prefix,
    browser,
    tabs,
    tab: async () => {
      const tab = await guardedTab(browser);
      tabs.push(tab);
      return tab;
    },
    stop: async () => {
      await browser.close();
      await stopCluster(cluster);
    },
  };
}

/**
 * `startCluster`, started once more on other ports when a port it found free was taken before
 * an instance listened on it (other processes on a shared machine: EADDRINUSE).
 */
async function startClusterRetrying(
  count: number,
  env: Record<string, string | undefined>,
): Promise<ClusterProcess> {
  try {
    return await startCluster(count, env);
  } catch (error) {
    if (!/EADDRINUSE/.test((error as Error).message)) throw error;
    process.stdout.write(
      '      a port was taken meanwhile (EADDRINUSE): starting on other ports\n',
    );
    return startCluster(count, env);
  }
}

async function stopCluster(cluster: ClusterProcess): Promise<void> {
  await cluster.stop('SIGINT');
  for (const m of cluster.members) {
    try {
      process.kill(m.pid, 'SIGKILL');
    } catch {
      // stopped with the cluster
    }
  }
}

/**
 * The end of a scenario: a screenshot of each tab (`<scenario>-<n>.png`), then every tab's
 * unexpected problems (console errors not matched by `allowed`) must be none.
 */
export async function endScenario(
  rig: ConsoleRig,
  scenario: string,
  allowed: readonly RegExp[] = [],
): Promise<void> {
  const problems: string[] = [];
  let expected = 0;
  for (const [i, tab] of rig.tabs.entries()) {
    if (!tab.page.isClosed()) await saveScreenshot(tab.page, `${scenario}-${i + 1}`);
    problems.push(...unexpectedProblems(tab.problems, allowed).map((p) => `tab ${i + 1}: ${p}`));
    expected += tab.problems.consoleErrors.filter((e) => allowed.some((a) => a.test(e))).length;
  }
  if (expected) process.stdout.write(`      console errors expected by the test: ${expected}\n`);
  expect(problems, 'no console errors, page errors or requests off localhost').to.deep.equal([]);
}

/** Opens each view in turn and scans it with axe-core; the serious and critical findings. */
export async function scanViews(
  tab: GuardedTab,
  views: readonly View[],
): Promise<{ findings: (AxeFinding & { view: string })[]; passes: number }> {
  const findings: (AxeFinding & { view: string })[] = [];
  let passes = 0;
  for (const view of views) {
    await openView(tab.page, view);
    const scan = await axeScan(tab.page);
    passes += scan.passes;
    findings.push(...scan.findings.map((f) => ({ ...f, view })));
  }
  return { findings, passes };
}
