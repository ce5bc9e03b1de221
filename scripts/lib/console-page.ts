/**
 * The console page (console/README.md lists its data-testids) as the browser tests and
 * `npm run bench -- console` drive it: sign in, open a view, read the counters the page exposes.
 */
import type { Page } from 'playwright-core';

/** The page's data-testids this driver uses (console/README.md). */
export const IDS = {
  signInUser: 'signin-user',
  signInGroups: 'signin-groups',
  signInAdmin: 'signin-admin',
  signInSubmit: 'signin-submit',
  applied: 'updates-applied',
  frames: 'frames-drawn',
  instance: 'serving-instance',
  resumedFrom: 'resumed-from',
  resets: 'reset-count',
} as const;

/** The views of the console, by the testid of their navigation link. */
export type View = 'field' | 'messages' | 'deployments' | 'operator' | 'history';

export const byId = (page: Page, id: string) => page.getByTestId(id);

/** Who signs in (AUTH_MODE=none). */
export interface Identity {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly admin?: boolean;
}

/** Opens `base` and signs in as `who`; resolves once the page says which instance serves it. */
export async function signIn(page: Page, base: string, who: Identity): Promise<void> {
  await page.goto(`${base}/`);
  await byId(page, IDS.signInUser).fill(who.user);
  if (who.groups?.length) await byId(page, IDS.signInGroups).fill(who.groups.join(','));
  if (who.admin) await byId(page, IDS.signInAdmin).check();
  await byId(page, IDS.signInSubmit).click();
  await page.waitForFunction(
    (id) => (document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '').trim() !== '',
    IDS.instance,
    { timeout: 15_000, polling: 100 },
  );
}

/** Opens a view by its navigation link (`nav-<view>`). */
export async function openView(page: Page, view: View): Promise<void> {
  await byId(page, `nav-${view}`).click();
  await byId(page, `view-${view}`).waitFor({ state: 'visible', timeout: 10_000 });
}

/** The counters the page exposes for tests and the benchmark. */
export interface Counters {
  readonly applied: number;
  readonly frames: number;
  readonly instance: string;
  readonly resumedFrom: string;
  readonly resets: number;
}

/** Reads the counters in one go (one evaluation, so they belong to the same moment). */
export function counters(page: Page): Promise<Counters> {
  return page.evaluate((ids) => {
    const text = (id: string) =>
      (document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '').trim();
    const num = (id: string) => Number(text(id).replace(/[^\d]/g, '') || Number.NaN);
    return {
      applied: num(ids.applied),
      frames: num(ids.frames),
      instance: text(ids.instance),
      resumedFrom: text(ids.resumedFrom),
      resets: num(ids.resets),
    };
  }, IDS);
}
