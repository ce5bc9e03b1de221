import { Router } from 'express';

/** One readiness check: its name and whether it passes now (with a reason when it does not). */
export interface ReadinessCheck {
  readonly name: string;
  check(): { readonly ok: boolean; readonly reason?: string };
}

/**
 * `GET /healthz` (the process is up) and `GET /readyz` (503 with the failing checks, so load
 * balancers drain this instance while Redis is unreachable, a loop is down or it is shutting down).
 */
export function healthRoutes(
  info: { serverId: string; store: string },
  checks: readonly ReadinessCheck[],
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({
      status: 'ok',
      serverId: info.serverId,
      store: info.store,
      uptimeS: Math.round(process.uptime()),
    });
  });
  router.get('/readyz', (_req, res) => {
    const failing = checks
      .map((c) => ({ name: c.name, ...c.check() }))
      .filter((r) => !r.ok)
      .map(({ name, reason }) => ({ name, reason }));
    res
      .status(failing.length ? 503 : 200)
      .json({ ready: failing.length === 0, serverId: info.serverId, failing });
  });
  return router;
}
