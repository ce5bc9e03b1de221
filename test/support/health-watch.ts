import { expect } from 'chai';

/** How long `/healthz` may take while an abuse test runs. */
export const HEALTH_BOUND_MS = 2000;

/** Polls `/healthz` every 100 ms until stopped; counts answers within the bound and the others. */
export function watchHealth(url: string) {
  let answered = 0;
  let late = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(HEALTH_BOUND_MS) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) answered += 1;
      else late += 1;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { answered, late };
  };
}

/**
 * Mocha hooks: watches `/healthz` of `url()` during each test, after `cleanup` (closing the
 * test's streams), checks every answer came within the bound and at least one came.
 */
export function checkHealthDuringEach(url: () => string, cleanup: () => void = () => {}): void {
  let stopWatch: () => Promise<{ answered: number; late: number }>;
  beforeEach(() => {
    stopWatch = watchHealth(url());
  });
  afterEach(async () => {
    cleanup();
    const { answered, late } = await stopWatch();
    process.stdout.write(
      `      /healthz meanwhile: ${answered} answered within ${HEALTH_BOUND_MS} ms, ${late} late\n`,
    );
    expect(late, `/healthz late or failing (answered ${answered})`).to.equal(0);
    expect(answered).to.be.greaterThan(0);
  });
}
