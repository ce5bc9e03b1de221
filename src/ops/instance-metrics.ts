import type { ReadinessCheck } from '../http/health.js';
import type { Metrics } from '../metrics.js';

/** What `meterInstance` shows about the process. */
export interface InstanceFacts {
  readonly version: string;
  readonly store: string;
}

/**
 * Instance-level gauges: `streamcast_info` (version and store as labels, value 1),
 * `streamcast_ready` (1 when `/readyz` would answer 200) and `streamcast_readiness_check` (each
 * check, 1 passing / 0 failing), all read at scrape time from the same checks as `/readyz`.
 */
export function meterInstance(
  metrics: Metrics,
  facts: InstanceFacts,
  checks: readonly ReadinessCheck[],
): void {
  metrics
    .gauge({
      name: 'streamcast_info',
      help: 'Always 1; the labels say which version runs on which store',
      labelNames: ['version', 'store'] as const,
    })
    .set({ version: facts.version, store: facts.store }, 1);
  metrics.gauge({
    name: 'streamcast_ready',
    help: '1 when this instance is ready (GET /readyz answers 200), else 0',
    collect() {
      this.set(checks.every((c) => c.check().ok) ? 1 : 0);
    },
  });
  metrics.gauge({
    name: 'streamcast_readiness_check',
    help: 'Each readiness check of GET /readyz: 1 passing, 0 failing',
    labelNames: ['check'] as const,
    collect() {
      for (const c of checks) this.set({ check: c.name }, c.check().ok ? 1 : 0);
    },
  });
}
