/**
 * A browser context as the console tests use it: every request that would leave localhost is
 * aborted and recorded, every console error and uncaught page error is recorded, an axe-core scan
 * can be run on the page as it is, and a screenshot of a scenario's end is saved under
 * test/e2e/screenshots (git-ignored; CI keeps it as an artifact).
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';

/** Where the screenshots go (git-ignored). */
export const SCREENSHOT_DIR = join(import.meta.dirname, '../e2e/screenshots');

/** What went wrong in a context so far. */
export interface Problems {
  /** Requests to anything but localhost (aborted). */
  readonly offsite: string[];
  /** Console messages of type error, with where they came from. */
  readonly consoleErrors: string[];
  /** Uncaught exceptions in the page. */
  readonly pageErrors: string[];
}

/** A guarded context and its first page. */
export interface GuardedTab {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: Problems;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True for URLs that stay on this machine (and the browser's own about:, data:, blob: ones). */
export function isLocal(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:' || parsed.protocol === 'ws:') {
    return LOCAL_HOSTS.has(parsed.hostname);
  }
  return ['about:', 'data:', 'blob:'].includes(parsed.protocol);
}

function describeMessage(message: ConsoleMessage): string {
  const { url, lineNumber } = message.location();
  return `${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`;
}

/** A new context whose pages may reach localhost only; its first page is open and watched. */
export async function guardedTab(browser: Browser, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const problems: Problems = { offsite: [], consoleErrors: [], pageErrors: [] };
  // aborted here, recorded by the request listener below
  await context.route('**/*', (route) => {
    const url = route.request().url();
    return isLocal(url) ? route.continue() : route.abort('blockedbyclient');
  });
  context.on('request', (request) => {
    if (!isLocal(request.url())) problems.offsite.push(request.url());
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(describeMessage(message));
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.stack ?? error.message));
  return { context, page, problems } satisfies GuardedTab;
}

/**
 * The problems a test did not expect: console errors not matched by `allowed` (the network errors
 * of a connection the test kills on purpose), every page error and every offsite request.
 */
export function unexpectedProblems(problems: Problems, allowed: readonly RegExp[] = []): string[] {
  const consoleErrors = problems.consoleErrors.filter((e) => !allowed.some((a) => a.test(e)));
  return [
    ...problems.offsite.map((u) => `request left localhost: ${u}`),
    ...problems.pageErrors.map((e) => `page error: ${e}`),
    ...consoleErrors.map((e) => `console error: ${e}`),
  ];
}

/** One axe-core finding of impact serious or critical. */
export interface AxeFinding {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/**
 * Runs axe-core (from node_modules, evaluated in the page so the page's CSP does not matter) on
 * the page as it is now; returns the serious and critical violations and how many rules passed.
 */
export async function axeScan(page: Page): Promise<{ findings: AxeFinding[]; passes: number }> {
  const loaded = await page.evaluate('typeof window.axe');
  if (loaded !== 'object') await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe's own global, injected above
    const axe = (window as any).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    const findings = (result.violations as AxeViolation[])
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
    return { findings, passes: (result.passes as unknown[]).length };
  });
}

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** Saves the page as `<name>.png` under SCREENSHOT_DIR; returns the path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
