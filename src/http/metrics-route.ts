import { Router } from 'express';
import type { Metrics } from '../metrics.js';

/** `GET /metrics`: the Prometheus text exposition of this instance's registry. */
export function metricsRoute(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const { contentType, text } = await metrics.exposition();
    res.set('Cache-Control', 'no-store').type(contentType).send(text);
  });
  return router;
}
