/**
 * CORS for `/rpc` and the event streams (SPEC.md §2 `CORS_ORIGINS`): a browser page from a listed
 * origin may call them, with credentials (the `sc_token` cookie of EventSource); without a list,
 * same origin only. Preflights are answered here, before the JSON-RPC router would refuse OPTIONS.
 */
import type { RequestHandler } from 'express';

/** Request headers a page may send (auth, the development identity headers, resume, tracing). */
const ALLOWED_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-User-Id',
  'X-User-Groups',
  'X-User-Roles',
  'X-Correlation-Id',
  'Last-Event-ID',
].join(', ');

/** How long a browser may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Settings of `cors`. */
export interface CorsOptions {
  /** `CORS_ORIGINS`: exact origins (`https://app.example.com`), or `*` for any; none = same origin only. */
  readonly origins?: readonly string[];
}

/** The paths CORS applies to: JSON-RPC and every event stream. */
export const CORS_PATHS = ['/rpc', '/events', '/streams', '/api'];

/** The rule of `CORS_ORIGINS`: whether a page from `origin` may call the API. */
export function originRule(options: CorsOptions): (origin: string) => boolean {
  const allowed = new Set((options.origins ?? []).map(normalise));
  return (origin) => allowed.has('*') || allowed.has(normalise(origin));
}

/** Middleware answering preflights and adding CORS headers for allowed origins. */
export function cors(options: CorsOptions): RequestHandler {
  const allows = originRule(options);
  return (req, res, next) => {
    const origin = req.get('Origin');
    if (origin === undefined) return next();
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && req.get('Access-Control-Request-Method');
    if (!allows(origin)) {
      if (!preflight) return next(); // the browser hides the answer from the page
      res.status(403).json({
        error: `origin ${origin} may not call this API: add it to CORS_ORIGINS (comma list of origins)`,
      });
      return;
    }
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Access-Control-Allow-Credentials', 'true');
    if (!preflight) {
      res.set('Access-Control-Expose-Headers', 'X-Correlation-Id');
      return next();
    }
    res.set('Access-Control-Allow-Methods', 'GET, POST');
    res.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.set('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_S));
    res.status(204).end();
  };
}

/** Origins compare without case and without a trailing slash. */
function normalise(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
