/**
 * `node --import tsx scripts/console-screenshot.ts [file]`: the README's opening image. Starts one
 * instance as `npm start` does (in-memory store), sets a few dozen trainers moving over JSON-RPC,
 * signs in to the console in Debian's chromium as an admin who moves their own trainer, and saves
 * the field (1280×800) to `file` (default docs/console.png).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { waitReady } from './bench/realtime-lib.js';
import { startApp } from './lib/app-process.js';
import { launchChromium } from './lib/chromium.js';
import { counterReaches, openView, signIn } from './lib/console-page.js';

const TRAINERS = 36;
const file = resolve(process.argv[2] ?? 'docs/console.png');

async function move(url: string, user: string, action: 'start' | 'stop', angle = 0) {
  const params =
    action === 'start'
      ? { action, directionX: Math.cos(angle), directionY: Math.sin(angle) }
      : { action };
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'trainer.move', params }),
  });
  const body = (await res.json()) as { error?: { message: string } };
  if (body.error) throw new Error(`trainer.move for ${user}: ${body.error.message}`);
}

const app = await startApp({ LOG_LEVEL: 'warn' });
const browser = await launchChromium();
try {
  await waitReady(app.url, app.output);
  const names = ['ash', 'misty', 'brock', 'may', 'dawn', 'gary', 'serena', 'iris', 'cilan'];
  const users = Array.from({ length: TRAINERS }, (_, i) => `${names[i % names.length]}-${i}`);
  // spread out first (each walks its own way for a while), then half stop, half keep moving
  await Promise.all(users.map((u, i) => move(app.url, u, 'start', (i * 2.4) % (2 * Math.PI))));
  await new Promise((r) => setTimeout(r, 4000));
  await Promise.all(users.filter((_, i) => i % 2).map((u) => move(app.url, u, 'stop')));
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await signIn(page, app.url, { user: 'professor-oak', admin: true });
  await openView(page, 'field');
  await counterReaches(page, 'trainers-count', TRAINERS, 10_000);
  await page.getByTestId('move-right').click();
  await new Promise((r) => setTimeout(r, 1500));
  mkdirSync(dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  process.stdout.write(`saved ${file}\n`);
} finally {
  await browser.close();
  await app.stop();
}
