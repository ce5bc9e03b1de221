/**
 * How long a verified JWT is accepted (SPEC.md §3, hardening issue 12): it must carry `exp`
 * (`JWT_REQUIRE_EXP`), and whatever its `exp` says it is refused `JWT_MAX_LIFETIME_S` after it
 * was issued (`iat`) — or, without `iat`, after this instance first saw it — so a token that
 * leaked is not good forever.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { UnauthenticatedError } from '../errors.js';

/** Settings of `TokenLifetime`. */
export interface TokenLifetimeOptions {
  /** `JWT_REQUIRE_EXP`: refuse tokens without `exp` (default true). */
  readonly requireExp?: boolean;
  /** `JWT_MAX_LIFETIME_S`: longest a token is accepted, from `iat` or first sight (default 86400). */
  readonly maxLifetimeS?: number;
  /** The clock (ms); tests pass their own. */
  readonly now?: () => number;
}

/** A token issued this much in the future is refused (clocks of issuers drift a little). */
const CLOCK_TOLERANCE_MS = 60_000;

/** Tokens without `iat` remembered at most (by hash, never the token), oldest forgotten first. */
const MAX_REMEMBERED = 100_000;

/** Checks the lifetime of verified tokens; one per process, shared by every authenticator. */
export class TokenLifetime {
  private readonly requireExp: boolean;
  private readonly maxLifetimeMs: number;
  private readonly now: () => number;
  /** sha256 of a token without `iat` → when first seen (ms) and when it expires (ms, if it does). */
  private readonly firstSeen = new Map<string, { at: number; expiresAt: number }>();

  constructor(options: TokenLifetimeOptions = {}) {
    this.requireExp = options.requireExp ?? true;
    this.maxLifetimeMs = (options.maxLifetimeS ?? 86_400) * 1000;
    this.now = options.now ?? Date.now;
  }

  /** Throws `UnauthenticatedError` when a verified token must not be accepted (any more). */
  check(token: string, payload: JWTPayload): void {
    const now = this.now();
    if (this.requireExp && typeof payload.exp !== 'number') {
      throw new UnauthenticatedError(
        'the token has no exp claim: tokens must expire (JWT_REQUIRE_EXP); ask for one with exp',
      );
    }
    let issuedAt: number;
    if (typeof payload.iat === 'number') {
      issuedAt = payload.iat * 1000;
      if (issuedAt > now + CLOCK_TOLERANCE_MS) {
        throw new UnauthenticatedError('the token was issued in the future (iat): check its clock');
      }
    } else {
      issuedAt = this.firstSight(token, payload, now);
    }
    if (now > issuedAt + this.maxLifetimeMs) {
      throw new UnauthenticatedError(
        'the token is older than JWT_MAX_LIFETIME_S allows, whatever its exp: sign in again',
      );
    }
  }

  private firstSight(token: string, payload: JWTPayload, now: number): number {
    const key = createHash('sha256').update(token).digest('base64url');
    const seen = this.firstSeen.get(key);
    if (seen) return seen.at;
    if (this.firstSeen.size >= MAX_REMEMBERED) this.forgetSome(now);
    const expiresAt = typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity;
    this.firstSeen.set(key, { at: now, expiresAt });
    return now;
  }

  /** Forgets tokens past their `exp` (refused anyway); if none are, the oldest tenth. */
  private forgetSome(now: number): void {
    for (const [key, seen] of this.firstSeen) {
      if (seen.expiresAt <= now) this.firstSeen.delete(key);
    }
    if (this.firstSeen.size < MAX_REMEMBERED) return;
    let drop = Math.ceil(MAX_REMEMBERED / 10);
    for (const key of this.firstSeen.keys()) {
      if (drop-- <= 0) break;
      this.firstSeen.delete(key);
    }
  }
}
