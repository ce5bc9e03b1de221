/**
 * Debian's chromium (`apt-get install chromium`) for browser tests, driven by playwright-core:
 * never a browser downloaded by Playwright. Tests fail under CI without it (.ci/run installs it)
 * and skip locally with the reason printed.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian installs it. */
export const CHROMIUM = '/usr/bin/chromium';

const CHROMIUM_MISSING = `${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)`;

/** In a mocha hook: fails under CI, skips locally (saying why) when chromium is missing. */
export function requireChromium(context: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI === 'true')
    throw new Error(`the browser test cannot run: ${CHROMIUM_MISSING}`);
  process.stdout.write(`    skipped: ${CHROMIUM_MISSING}\n`);
  context.skip();
}

/** Headless chromium (Playwright runs it without its sandbox, so root can start it too). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}
