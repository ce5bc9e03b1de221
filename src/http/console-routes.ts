/**
 * The console at `/` (console/README.md): the page, its bundled script and stylesheet, and the
 * sign-in session `GET|POST|DELETE /api/console/session`. With `AUTH_MODE=jwt` signing in verifies
 * the token and keeps it in the `sc_token` cookie (HttpOnly, SameSite=Strict): the page never
 * holds it, and `/rpc` and the event streams read it (SPEC.md §3). The POST must be JSON, so a
 * page of another origin needs a preflight, which CORS refuses unless CORS_ORIGINS lists it.
 */
import express, { type Request, type Response, Router } from 'express';
import { decodeJwt } from 'jose';
import { UnauthenticatedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Caller } from '../rpc/method.js';
import type { ConsoleBundle } from './console-bundle.js';
import { restErrorBody } from './rest-errors.js';

/** The token cookie (auth.ts reads it). */
const TOKEN_COOKIE = 'sc_token';

/** The page runs only its own script; it connects to the instances it is told of. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  'connect-src *',
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export interface ConsoleRoutesOptions {
  readonly authMode: 'none' | 'jwt';
  /** The page, bundled at start-up (`bundleConsole`). */
  readonly bundle: Promise<ConsoleBundle>;
  /** Resolves the caller of a request (`callerIdentifier`); throws UnauthenticatedError. */
  readonly identify: (req: {
    get(header: string): string | undefined;
    readonly query: Readonly<Record<string, unknown>>;
  }) => Promise<Caller>;
  readonly logger: Logger;
}

/** `/`, `/console.js`, `/console.css` and `/api/console/session`. */
export function consoleRoutes(options: ConsoleRoutesOptions): Router {
  const router = Router();
  const logger = options.logger.child({ component: 'console' });
  options.bundle.catch((error: unknown) => {
    logger.error(`cannot bundle the console (console/src): ${String(error)}`);
  });
  const serve =
    (part: keyof ConsoleBundle, type: string) => async (_req: Request, res: Response) => {
      let bundle: ConsoleBundle;
      try {
        bundle = await options.bundle;
      } catch {
        res
          .status(500)
          .json(
            restErrorBody(
              500,
              'CONSOLE_UNAVAILABLE',
              'the console could not be bundled: see the instance log',
            ),
          );
        return;
      }
      res.set({
        'Content-Type': type,
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      res.send(bundle[part]);
    };
  router.get(['/', '/index.html'], serve('html', 'text/html; charset=utf-8'));
  router.get('/console.js', serve('js', 'text/javascript; charset=utf-8'));
  router.get('/console.css', serve('css', 'text/css; charset=utf-8'));

  router.get('/api/console/session', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (options.authMode === 'none') {
      res.json({ authMode: 'none', caller: null });
      return;
    }
    try {
      res.json({ authMode: 'jwt', caller: publicCaller(await options.identify(req)) });
    } catch {
      res.json({ authMode: 'jwt', caller: null });
    }
  });
  router.post('/api/console/session', express.json({ limit: '16kb' }), async (req, res) => {
    if (options.authMode !== 'jwt') {
      const message = 'AUTH_MODE=none keeps no session: send X-User-Id (the console does)';
      res.status(400).json(restErrorBody(400, 'NO_SESSION', message));
      return;
    }
    const token: unknown = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token.trim())) {
      const message = 'send {"token": "<a JWT>"} as application/json';
      res.status(400).json(restErrorBody(400, 'VALIDATION_ERROR', message));
      return;
    }
    const jwt = token.trim();
    let caller: Caller;
    try {
      caller = await options.identify({
        get: (h) => (h.toLowerCase() === 'authorization' ? `Bearer ${jwt}` : undefined),
        query: {},
      });
    } catch (error) {
      const message =
        error instanceof UnauthenticatedError ? error.message : 'the token is refused';
      logger.info('console sign-in refused', { reason: message });
      res.status(401).json(restErrorBody(401, 'UNAUTHENTICATED', message));
      return;
    }
    res.cookie(TOKEN_COOKIE, jwt, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      ...maxAgeOf(jwt),
    });
    res.set('Cache-Control', 'no-store');
    res.json({ authMode: 'jwt', caller: publicCaller(caller) });
  });
  router.delete('/api/console/session', (req, res) => {
    res.clearCookie(TOKEN_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
    });
    res.status(204).end();
  });
  return router;
}

/** What the page is told of its caller. */
function publicCaller(caller: Caller) {
  return {
    userId: caller.userId,
    groups: [...caller.groups],
    roles: [...caller.roles],
    isAdmin: caller.isAdmin,
  };
}

/** The cookie lives as long as the token (verified already: `exp` is trusted here). */
function maxAgeOf(token: string): { maxAge?: number } {
  const { exp } = decodeJwt(token);
  return typeof exp === 'number' ? { maxAge: Math.max(exp * 1000 - Date.now(), 0) } : {};
}
