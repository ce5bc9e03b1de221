/**
 * Authentication (SPEC.md §3): an express middleware that establishes the `Caller` of a request
 * from trusted headers (`AUTH_MODE=none`) or a verified JWT (`AUTH_MODE=jwt`), or answers 401.
 * Tokens never reach a log line or an error message.
 */
import type { RequestHandler, Response } from 'express';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type RpcError, toRpcError } from '../error-codes.js';
import { ConfigError, UnauthenticatedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Caller } from '../rpc/method.js';
import { TokenLifetime } from './token-lifetime.js';

/** Identifiers a client chooses (user, group and role ids): 1–128 of `A–Z a–z 0–9 . _ : -`. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const IDENTIFIER_RULE = '1-128 characters of A-Z a-z 0-9 . _ : -';

/** Asymmetric algorithms accepted from a JWKS (never `none`, never HMAC with a public key). */
const JWKS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

/** How `authenticate` establishes callers. */
export interface AuthOptions {
  /** `AUTH_MODE`: `none` trusts `X-User-*` headers (development), `jwt` verifies a token. */
  readonly mode: 'none' | 'jwt';
  /** `JWT_SECRET`: HS256 shared secret. */
  readonly jwtSecret?: string;
  /** `JWT_SECRET_PREVIOUS`: HS256 secrets rotated out, still accepted for verifying. */
  readonly jwtSecretsPrevious?: readonly string[];
  /** `JWT_JWKS_URL`: key set for asymmetric tokens (RS*, PS*, ES*, EdDSA). */
  readonly jwksUrl?: string;
  /** `JWT_ISSUER`: required `iss` when set. */
  readonly issuer?: string;
  /** `JWT_AUDIENCE`: required `aud` when set. */
  readonly audience?: string;
  /**
   * `JWT_REQUIRE_EXP` and `JWT_MAX_LIFETIME_S`; share one per process so a token without `iat`
   * has one first sight. Default: `exp` required, at most a day.
   */
  readonly lifetime?: TokenLifetime;
  readonly logger: Logger;
  /**
   * Let a request that carries no credentials at all go on without a caller (for public methods
   * such as `rpc.discover`); bad credentials are still refused. Default false.
   */
  readonly allowAnonymous?: boolean;
  /** The JSON body of a 401 answer; default `rpcUnauthorizedBody` (JSON-RPC -32001, id null). */
  readonly unauthorizedBody?: (error: UnauthenticatedError) => unknown;
}

/** The default 401 body: a JSON-RPC response with error -32001 and `id: null`. */
export function rpcUnauthorizedBody(error: UnauthenticatedError): {
  readonly jsonrpc: '2.0';
  readonly id: null;
  readonly error: RpcError;
} {
  return { jsonrpc: '2.0', id: null, error: toRpcError(error) };
}

/** The caller `authenticate` established for this response, if any. */
export function callerOf(res: Response): Caller | undefined {
  return res.locals.caller as Caller | undefined;
}

/** Builds a caller; `admin` among the roles makes it an admin. */
export function makeCaller(
  userId: string,
  groups: readonly string[],
  roles: readonly string[],
): Caller {
  return { userId, groups, roles, isAdmin: roles.includes('admin') };
}

/** What identifying a caller reads of a request: its headers and its parsed query. */
export interface RequestLike {
  get(header: string): string | undefined;
  readonly query: Readonly<Record<string, unknown>>;
}

/** Resolves the caller of a request: undefined when it carries no credentials at all. */
type Identify = (req: RequestLike) => Promise<Caller | undefined>;

/**
 * The caller of a request outside express (the plain-http event stream): resolves it, or throws
 * `UnauthenticatedError` (missing or bad credentials; tokens never in the message).
 */
export function callerIdentifier(options: AuthOptions): (req: RequestLike) => Promise<Caller> {
  const logger = options.logger.child({ component: 'auth' });
  const identify =
    options.mode === 'none' ? identifyFromHeaders(logger, options.logger) : jwtIdentity(options);
  return async (req) => {
    try {
      const caller = await identify(req);
      if (!caller) throw missingCredentials();
      return caller;
    } catch (error) {
      throw asRefusal(error, logger);
    }
  };
}

/**
 * Middleware setting `res.locals.caller` (read it with `callerOf`), or answering 401 with
 * `unauthorizedBody` when credentials are missing or bad.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  const logger = options.logger.child({ component: 'auth' });
  const identify =
    options.mode === 'none' ? identifyFromHeaders(logger, options.logger) : jwtIdentity(options);
  const body = options.unauthorizedBody ?? rpcUnauthorizedBody;
  return async (req, res, next) => {
    let caller: Caller | undefined;
    try {
      caller = await identify(req);
      if (!caller && !options.allowAnonymous) throw missingCredentials();
    } catch (error) {
      const refusal = asRefusal(error, logger);
      logger.info('authentication refused', {
        reason: refusal.message,
        path: req.path,
        correlationId: res.locals.correlationId,
      });
      if (options.mode === 'jwt') res.set('WWW-Authenticate', 'Bearer realm="streamcast"');
      res.status(401).json(body(refusal));
      return;
    }
    if (caller) res.locals.caller = caller;
    next();
  };
}

function missingCredentials(): UnauthenticatedError {
  return new UnauthenticatedError(
    'credentials required: send Authorization: Bearer <token> (EventSource: the sc_token cookie or the access_token query parameter)',
  );
}

/** Unexpected failures (a key set that cannot be fetched) are logged and refused generically. */
function asRefusal(error: unknown, logger: Logger): UnauthenticatedError {
  if (error instanceof UnauthenticatedError) return error;
  logger.error('cannot verify a token', { error: errorName(error) });
  return new UnauthenticatedError('the token cannot be verified right now: try again shortly');
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// --- AUTH_MODE=none ---------------------------------------------------------------------------

/** Loggers already warned about AUTH_MODE=none (an instance builds several authenticators). */
const warnedAboutNone = new WeakSet<Logger>();

function identifyFromHeaders(logger: Logger, parent: Logger): Identify {
  if (!warnedAboutNone.has(parent)) {
    warnedAboutNone.add(parent);
    logger.warn(
      'AUTH_MODE=none: callers are whoever X-User-Id / userId says they are; set AUTH_MODE=jwt outside development',
    );
  }
  return async (req) => {
    const userId = headerOrQuery(req, 'X-User-Id', 'userId') ?? 'anonymous';
    if (!IDENTIFIER_PATTERN.test(userId)) {
      throw new UnauthenticatedError(`X-User-Id (userId) must be ${IDENTIFIER_RULE}`);
    }
    const groups = idList(headerOrQuery(req, 'X-User-Groups', 'groups'), 'X-User-Groups (groups)');
    const roles = idList(headerOrQuery(req, 'X-User-Roles', 'roles'), 'X-User-Roles (roles)');
    return makeCaller(userId, groups, roles);
  };
}

/** The header if sent, else the query parameter (given once), else undefined. */
function headerOrQuery(req: RequestLike, header: string, query: string): string | undefined {
  const fromHeader = req.get(header);
  return fromHeader ?? queryValue(req, query);
}

function queryValue(req: RequestLike, name: string): string | undefined {
  const value: unknown = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new UnauthenticatedError(`${name} must be given once`);
  return value;
}

/** A comma list of identifiers; empty entries are dropped. */
function idList(value: string | undefined, what: string): readonly string[] {
  if (value === undefined) return [];
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (!ids.every((id) => IDENTIFIER_PATTERN.test(id))) {
    throw new UnauthenticatedError(`${what} must be a comma list of ids of ${IDENTIFIER_RULE}`);
  }
  return ids;
}

// --- AUTH_MODE=jwt ----------------------------------------------------------------------------

function jwtIdentity(options: AuthOptions): Identify {
  const { getKey, previous, algorithms } = keyResolver(options);
  const lifetime = options.lifetime ?? new TokenLifetime();
  return async (req) => {
    const token = tokenOf(req);
    if (token === undefined) return undefined;
    const payload = await verifyToken(token, getKey, previous, {
      algorithms,
      issuer: options.issuer,
      audience: options.audience,
    });
    lifetime.check(token, payload);
    return callerFromClaims(payload);
  };
}

/**
 * Picks the key by the token's `alg`: HS256 → `JWT_SECRET`, asymmetric → `JWT_JWKS_URL` (which
 * rotates by itself); `previous` are the HS256 secrets of `JWT_SECRET_PREVIOUS`.
 */
function keyResolver(options: AuthOptions): {
  getKey: JWTVerifyGetKey;
  previous: readonly Uint8Array[];
  algorithms: string[];
} {
  const encode = (text: string) => new TextEncoder().encode(text);
  const secret = options.jwtSecret ? encode(options.jwtSecret) : undefined;
  const previous = secret ? (options.jwtSecretsPrevious ?? []).map(encode) : [];
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  if (!secret && !jwks) {
    throw new ConfigError(['JWT_SECRET or JWT_JWKS_URL: one is required with AUTH_MODE=jwt']);
  }
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === 'HS256' && secret) return secret;
    if (header.alg !== 'HS256' && jwks) return jwks(header, token);
    throw new UnauthenticatedError(`tokens signed with ${header.alg} are not accepted`);
  };
  const algorithms = [...(secret ? ['HS256'] : []), ...(jwks ? JWKS_ALGORITHMS : [])];
  return { getKey, previous, algorithms };
}

/** The cookie that carries the token for `EventSource`, which cannot set headers (SPEC.md §3). */
const TOKEN_COOKIE = 'sc_token';

/**
 * True when the `sc_token` cookie is what authenticates a request (it has no Authorization
 * header, which would win): the credential a browser attaches by itself, even to a request
 * another site's page makes.
 */
export function authenticatedByCookie(get: (header: string) => string | undefined): boolean {
  return (
    get('Authorization') === undefined && cookieValue(get('Cookie'), TOKEN_COOKIE) !== undefined
  );
}

/** `Authorization: Bearer`, else the `sc_token` cookie, else the `access_token` query. */
function tokenOf(req: RequestLike): string | undefined {
  const authorization = req.get('Authorization');
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    if (!match) throw new UnauthenticatedError('the Authorization header must be: Bearer <token>');
    return match[1];
  }
  return cookieValue(req.get('Cookie'), TOKEN_COOKIE) ?? queryValue(req, 'access_token');
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    const raw = pair.slice(at + 1).trim();
    try {
      return decodeURIComponent(raw) || undefined;
    } catch {
      return raw || undefined;
    }
  }
  return undefined;
}

/**
 * Verifies with the current keys, then — for an HS256 token whose signature they reject — with
 * each previous secret in turn (tokens signed before a rotation live out their lifetime).
 */
async function verifyToken(
  token: string,
  getKey: JWTVerifyGetKey,
  previous: readonly Uint8Array[],
  verifyOptions: { algorithms: string[]; issuer?: string; audience?: string },
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, getKey, verifyOptions)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw refusalOf(error);
    if (previous.length === 0 || decodeProtectedHeader(token).alg !== 'HS256') {
      throw refusalOf(error);
    }
  }
  for (const [i, secret] of previous.entries()) {
    try {
      return (await jwtVerify(token, secret, verifyOptions)).payload;
    } catch (error) {
      const last = i === previous.length - 1;
      if (last || !(error instanceof errors.JWSSignatureVerificationFailed)) {
        throw refusalOf(error);
      }
    }
  }
  throw new UnauthenticatedError('the token signature is invalid');
}

/** A jose failure as a message safe to show (jose's own messages never hold the token either). */
function refusalOf(error: unknown): unknown {
  if (error instanceof UnauthenticatedError) return error;
  if (error instanceof errors.JWTExpired) {
    return new UnauthenticatedError('the token has expired: sign in again');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new UnauthenticatedError(`the token's ${error.claim} claim is not accepted`);
  }
  if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError)) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new UnauthenticatedError('the token signature is invalid');
  }
  return new UnauthenticatedError(
    'the token is malformed, or signed with a key or algorithm not accepted',
  );
}

function callerFromClaims(payload: JWTPayload): Caller {
  const userId = payload.sub;
  if (typeof userId !== 'string' || !IDENTIFIER_PATTERN.test(userId)) {
    throw new UnauthenticatedError(`the token's sub claim must be ${IDENTIFIER_RULE}`);
  }
  return makeCaller(userId, claimIds(payload.groups, 'groups'), claimIds(payload.roles, 'roles'));
}

function claimIds(value: unknown, claim: string): readonly string[] {
  if (value === undefined) return [];
  const valid =
    Array.isArray(value) &&
    value.every((id) => typeof id === 'string' && IDENTIFIER_PATTERN.test(id));
  if (!valid) {
    throw new UnauthenticatedError(
      `the token's ${claim} claim must be an array of ids of ${IDENTIFIER_RULE}`,
    );
  }
  return value as string[];
}
