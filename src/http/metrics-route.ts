import { Router } from 'express';
import type { Metrics } from '../metrics.js';

/**
 * `GET /metrics`: the Prometheus text exposition of this instance's registry, at exactly
 * `/metrics` — not `/METRICS` or `/metrics/`, which express would otherwise match too and which a
 * proxy blocking `location = /metrics` lets through.
 */
export function metricsRoute(metrics: Metrics): Router {
  const router = Router({ caseSensitive: true, strict: true });
  router.get('/metrics', async (_req, res) => {
    const { contentType, text } = await metrics.exposition();
    res.set('Cache-Control', 'no-store').type(contentType).send(text);
  });
  return router;
}
