/**
 * The smoke test of the browser pair, run before the other browser tests (files run in name
 * order): the pinned playwright-core launches Debian's chromium, opens a page and runs script in
 * it, with the APIs the console and its tests use. When the pair does not fit it says which
 * versions and what to do, instead of every browser test failing on its own.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { browserPair, launchChromium, requireChromium } from '../support/chromium.js';

describe('the browser pair: pinned playwright-core drives Debian chromium', () => {
  let browser: Browser | undefined;

  before(function () {
    requireChromium(this);
  });

  after(async () => {
    await browser?.close();
  });

  it('launches it, opens a page and runs script with EventSource, canvas and cookies', async function () {
    // the first Chromium start on a machine (profile, font cache) took over 20 s in a CI run
    this.timeout(120_000);
    const started = Date.now();
    const pair = browserPair();
    process.stdout.write(
      `      playwright-core ${pair.playwright} (made for Chromium ${pair.madeFor}) with ${pair.chromium}\n`,
    );
    expect(pair.playwright, 'pinned to one exact version').to.match(/^\d+\.\d+\.\d+$/);
    browser = await launchChromium();
    process.stdout.write(`      launched in ${Date.now() - started} ms\n`);
    expect(pair.chromium, 'the version launched').to.include(browser.version());
    const page = await browser.newPage();
    await page.setContent('<canvas width="8" height="8"></canvas><button>go</button>');
    const seen = await page.evaluate(() => ({
      eventSource: typeof EventSource,
      canvas: Boolean(document.querySelector('canvas')?.getContext('2d')),
      ua: navigator.userAgent,
    }));
    expect(seen.eventSource).to.equal('function');
    expect(seen.canvas, 'a 2d canvas context').to.equal(true);
    expect(seen.ua, 'headless').to.include('Headless');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.tagName)).to.equal('BUTTON');
  });
});
