/**
 * Debian's chromium for browser tests (scripts/lib/chromium.ts launches it): tests fail under CI
 * without it (.ci/run installs it) and skip locally with the reason printed.
 */
import { existsSync } from 'node:fs';
import { CHROMIUM, CHROMIUM_MISSING } from '../../scripts/lib/chromium.js';

export { browserPair, CHROMIUM, launchChromium } from '../../scripts/lib/chromium.js';

/** In a mocha hook: fails under CI, skips locally (saying why) when chromium is missing. */
export function requireChromium(context: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI === 'true')
    throw new Error(`the browser test cannot run: ${CHROMIUM_MISSING}`);
  process.stdout.write(`    skipped: ${CHROMIUM_MISSING}\n`);
  context.skip();
}
