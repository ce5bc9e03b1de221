/**
 * CORS for `/rpc` and the event streams (SPEC.md §2 `CORS_ORIGINS`): a browser page from a listed
 * origin may call them with credentials (the `sc_token` cookie of EventSource); `*` lets any other
 * origin call them without credentials only; without a list, same origin only. `Origin: null`
 * (sandboxed frames, `file:` pages, redirects: any site can produce it) is never allowed. A
 * state-changing request that the cookie would authenticate must come from this site or a listed
 * origin, since a browser attaches the cookie to a cross-site form or fetch by itself.
 * Preflights are answered here, before the JSON-RPC router would refuse OPTIONS.
 */

import type { Request, RequestHandler } from 'express';
import { authenticatedByCookie } from './auth.js';
import { restErrorBody } from './rest-errors.js';

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

/** Methods that change state: with the cookie, only from this site or a listed origin. */
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Settings of `cors`. */
export interface CorsOptions {
  /** `CORS_ORIGINS`: exact origins (`https://app.example.com`), and/or `*` for any origin without credentials; none = same origin only. */
  readonly origins?: readonly string[];
}

/** What a page from an origin may do: call with credentials, call without them, or nothing. */
export type OriginAccess = 'credentials' | 'anonymous' | 'refused';

/** The paths CORS applies to: JSON-RPC and every event stream. */
export const CORS_PATHS = ['/rpc', '/events', '/streams', '/api'];

/** The rule of `CORS_ORIGINS`: listed origins get credentials, `*` the others without them. */
export function originAccess(options: CorsOptions): (origin: string) => OriginAccess {
  const origins = options.origins ?? [];
  const listed = new Set(origins.filter((o) => o !== '*').map(normalise));
  const wildcard = origins.includes('*');
  return (origin) => {
    const o = normalise(origin);
    if (o === 'null') return 'refused';
    if (listed.has(o)) return 'credentials';
    return wildcard ? 'anonymous' : 'refused';
  };
}

/** The CORS headers of an answer to an origin with this access (none when refused). */
export function corsHeaders(access: OriginAccess, origin: string): Record<string, string> {
  if (access === 'credentials') {
    return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' };
  }
  // never credentials beside a wildcard: any site could then act as the logged-in user
  return access === 'anonymous' ? { 'Access-Control-Allow-Origin': '*' } : {};
}

/** What start-up should warn about in these settings (one line each). */
export function corsWarnings(options: CorsOptions): string[] {
  if (!options.origins?.includes('*')) return [];
  return [
    'CORS_ORIGINS=*: pages from any origin may call /rpc and open the event streams, but only without credentials (no sc_token cookie); list origins in CORS_ORIGINS to let their pages use the cookie',
  ];
}

/** Middleware answering preflights, adding CORS headers, and refusing cross-site cookie writes. */
export function cors(options: CorsOptions): RequestHandler {
  const accessOf = originAccess(options);
  return (req, res, next) => {
    const origin = req.get('Origin');
    if (STATE_CHANGING.has(req.method) && authenticatedByCookie((h) => req.get(h))) {
      const from = origin === undefined ? undefined : accessOf(origin);
      if (from !== 'credentials' && !sameSite(req, origin)) {
        const message = `a request authenticated by the sc_token cookie may change state only from this site or an origin listed in CORS_ORIGINS, not from ${origin ?? 'another site'}; pages elsewhere must send Authorization: Bearer <token>`;
        res.status(403).json(restErrorBody(403, 'FORBIDDEN', message));
        return;
      }
    }
    if (origin === undefined) return next();
    res.vary('Origin');
    const access = accessOf(origin);
    const preflight = req.method === 'OPTIONS' && req.get('Access-Control-Request-Method');
    if (access === 'refused') {
      if (!preflight) return next(); // the browser hides the answer from the page
      const message = `origin ${origin} may not call this API: add it to CORS_ORIGINS (comma list of origins)`;
      res.status(403).json(restErrorBody(403, 'FORBIDDEN', message));
      return;
    }
    res.set(corsHeaders(access, origin));
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

/**
 * True when a request comes from a page of this site: its `Origin` names the host it was sent to
 * (`Host`, or `X-Forwarded-Host` behind a proxy; schemes are not compared, as a proxy may end TLS),
 * or, without `Origin`, the browser's `Sec-Fetch-Site` does not say cross-site (non-browser
 * clients send neither, and cannot be made to send a cookie by someone else's page).
 */
function sameSite(req: Request, origin: string | undefined): boolean {
  if (origin === undefined) {
    const site = req.get('Sec-Fetch-Site');
    return site === undefined || site === 'same-origin' || site === 'none';
  }
  try {
    return new URL(origin).host === req.host?.toLowerCase();
  } catch {
    return false; // `null` or garbage
  }
}

/** Origins compare without case and without a trailing slash. */
function normalise(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}
