/**
 * Debian's chromium (`apt-get install chromium`) driven by playwright-core, for the browser tests
 * and `npm run bench -- console`: never a browser downloaded by Playwright. playwright-core is
 * pinned to one version in package.json: its protocol must fit Debian's chromium, which
 * `launchChromium` says plainly when it does not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why a browser run cannot start when chromium is missing. */
export const CHROMIUM_MISSING = `${CHROMIUM} is not installed (apt-get install chromium; .ci/run installs it)`;

/** The pair: the installed playwright-core, the Chromium it was made for, and Debian's chromium. */
export interface BrowserPair {
  readonly playwright: string;
  readonly madeFor: string;
  readonly chromium: string;
}

/** What is installed (read from playwright-core's own files and `chromium --version`). */
export function browserPair(): BrowserPair {
  const dir = dirname(createRequire(import.meta.url).resolve('playwright-core'));
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const browsers = read('browsers.json').browsers as { name: string; browserVersion: string }[];
  let installed = 'not installed';
  try {
    installed = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    // said as "not installed"
  }
  return {
    playwright: read('package.json').version,
    madeFor: browsers.find((b) => b.name === 'chromium')?.browserVersion ?? 'unknown',
    chromium: installed,
  };
}

/** The message when the pair does not work together: what is installed and what to do. */
export function pairMismatch(pair: BrowserPair, cause: string): string {
  return (
    `playwright-core ${pair.playwright} (made for Chromium ${pair.madeFor}) cannot drive ` +
    `${CHROMIUM} (${pair.chromium}): ${cause}\n` +
    `The pair does not fit: pin "playwright-core" in package.json to the release whose Chromium ` +
    `is nearest to Debian's (Playwright's release notes list it), then npm install.`
  );
}

/**
 * Headless chromium (Playwright runs it without its sandbox, so root can start it too); a
 * launch that fails says which versions did not fit.
 */
export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM, headless: true });
  } catch (error) {
    throw new Error(pairMismatch(browserPair(), (error as Error).message.split('\n')[0]!));
  }
}
