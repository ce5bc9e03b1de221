/**
 * The console page as the browser tests and `npm run bench -- console` drive it, by the
 * data-testids console/README.md lists (the contract): sign in, open a tab, read the counters the
 * page exposes.
 */
import type { Page } from 'playwright-core';

/** The tabs of the console (`tab-<view>` opens `view-<view>`). */
export type View = 'field' | 'messages' | 'deployments' | 'operator' | 'history';

/** Who signs in (AUTH_MODE=none). */
export interface Identity {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly admin?: boolean;
}

/** Waits until the element `testid` shows text matching `pattern` (any text by default). */
export async function waitForText(
  page: Page,
  testid: string,
  pattern = /\S/,
  timeoutMs = 15_000,
): Promise<string> {
  const handle = await page.waitForFunction(
    ([id, source]) => {
      const text = document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
      return new RegExp(source).test(text) ? text : false;
    },
    [testid, pattern.source] as const,
    { timeout: timeoutMs, polling: 50 },
  );
  return String(await handle.jsonValue());
}

/** Opens `base` and signs in as `who`; resolves once the page's stream is live. */
export async function signIn(page: Page, base: string, who: Identity): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByTestId('signin-user').fill(who.user);
  if (who.groups?.length) await page.getByTestId('signin-groups').fill(who.groups.join(','));
  if (who.admin) await page.getByTestId('signin-admin').check();
  await page.getByTestId('signin-submit').click();
  await waitForLive(page);
}

/** Waits until the connection bar says `live` and names the serving instance. */
export async function waitForLive(page: Page, timeoutMs = 15_000): Promise<void> {
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="conn-state"]')?.getAttribute('data-state') === 'live' &&
      (document.querySelector('[data-testid="conn-server"]')?.textContent ?? '').trim() !== '',
    undefined,
    { timeout: timeoutMs, polling: 50 },
  );
}

/** Opens a tab and waits for its view. */
export async function openView(page: Page, view: View): Promise<void> {
  await page.getByTestId(`tab-${view}`).click();
  await page.getByTestId(`view-${view}`).waitFor({ state: 'visible', timeout: 10_000 });
}

/** The counters the page exposes for tests and the benchmark (connection bar). */
export interface Counters {
  readonly applied: number;
  readonly stale: number;
  readonly frames: number;
  readonly trainers: number;
  readonly connections: number;
  readonly resets: number;
  readonly server: string;
  readonly resumedFrom: string;
  readonly state: string;
}

/**
 * Reads the counters in one evaluation, so they belong to the same moment. (Plain JavaScript:
 * tsx would wrap named functions of a callback in a helper the page does not have.)
 */
export function counters(page: Page): Promise<Counters> {
  return page.evaluate(`(() => {
    const el = (id) => document.querySelector('[data-testid="' + id + '"]');
    const text = (id) => (el(id)?.textContent ?? '').trim();
    const num = (id) => (text(id) === '' ? NaN : Number(text(id)));
    return {
      applied: num('updates-applied'),
      stale: num('updates-stale'),
      frames: num('frames-drawn'),
      trainers: num('trainers-count'),
      connections: num('conn-connections'),
      resets: num('conn-resets'),
      server: text('conn-server'),
      resumedFrom: text('conn-resumed-from'),
      state: el('conn-state')?.getAttribute('data-state') ?? '',
    };
  })()`);
}

/** Waits until the page's counter `testid` reaches `target` (or `timeoutMs`: false). */
export async function counterReaches(
  page: Page,
  testid: string,
  target: number,
  timeoutMs: number,
): Promise<boolean> {
  try {
    await page.waitForFunction(
      ([id, n]) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent) >= n,
      [testid, target] as const,
      { timeout: timeoutMs, polling: 50 },
    );
    return true;
  } catch {
    return false;
  }
}
