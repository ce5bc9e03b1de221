/**
 * Who the page acts as (console/README.md "Signing in"). `AUTH_MODE=none`: an identity typed in,
 * kept in this tab's sessionStorage and sent as `X-User-*` headers (`/rpc`) and query parameters
 * (event streams). `AUTH_MODE=jwt`: the server keeps the token in the HttpOnly `sc_token` cookie;
 * the page only learns who it is.
 */

/** The signed-in user, as the page shows and uses it. */
export interface Identity {
  readonly authMode: 'none' | 'jwt';
  readonly userId: string;
  readonly groups: readonly string[];
  readonly isAdmin: boolean;
}

interface SessionAnswer {
  readonly authMode: 'none' | 'jwt';
  readonly caller: { userId: string; groups: string[]; isAdmin: boolean } | null;
}

const STORAGE_KEY = 'streamcast.identity';
const SESSION_URL = '/api/console/session';

/** Identifiers a client chooses (SPEC.md §4). */
export const IDENTIFIER = /^[A-Za-z0-9._:-]{1,128}$/;

/** The server's auth mode and, with a valid cookie or a stored none-mode identity, the user. */
export async function currentIdentity(): Promise<{
  authMode: 'none' | 'jwt';
  identity: Identity | undefined;
}> {
  const answer = (await (await fetch(SESSION_URL)).json()) as SessionAnswer;
  if (answer.authMode === 'jwt') {
    const c = answer.caller;
    return {
      authMode: 'jwt',
      identity: c
        ? { authMode: 'jwt', userId: c.userId, groups: c.groups, isAdmin: c.isAdmin }
        : undefined,
    };
  }
  const stored = sessionStorage.getItem(STORAGE_KEY);
  return { authMode: 'none', identity: stored ? (JSON.parse(stored) as Identity) : undefined };
}

/** Checks and keeps a none-mode identity; throws with what is wrong. */
export function signInAs(userId: string, groupList: string, isAdmin: boolean): Identity {
  const user = userId.trim();
  if (!IDENTIFIER.test(user)) {
    throw new Error('the user name must be 1–128 characters of A–Z a–z 0–9 . _ : -');
  }
  const groups = groupList
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const bad = groups.find((g) => !IDENTIFIER.test(g));
  if (bad !== undefined) {
    throw new Error(`group "${bad}" must be 1–128 characters of A–Z a–z 0–9 . _ : -`);
  }
  const identity: Identity = { authMode: 'none', userId: user, groups, isAdmin };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(identity));
  return identity;
}

/** Posts a token; the server verifies it and sets the cookie. Throws with the server's reason. */
export async function signInWithToken(token: string): Promise<Identity> {
  const response = await fetch(SESSION_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: token.trim() }),
  });
  const body = (await response.json()) as SessionAnswer & { message?: string };
  if (!response.ok || !body.caller) throw new Error(body.message ?? `HTTP ${response.status}`);
  const c = body.caller;
  return { authMode: 'jwt', userId: c.userId, groups: c.groups, isAdmin: c.isAdmin };
}

/** Forgets the identity (and the cookie, in jwt mode). */
export async function signOut(identity: Identity): Promise<void> {
  sessionStorage.removeItem(STORAGE_KEY);
  if (identity.authMode === 'jwt') await fetch(SESSION_URL, { method: 'DELETE' });
}

/** Headers for `/rpc` (none mode; the cookie does it in jwt mode). */
export function rpcHeaders(identity: Identity): Record<string, string> {
  if (identity.authMode === 'jwt') return {};
  return {
    'X-User-Id': identity.userId,
    ...(identity.groups.length ? { 'X-User-Groups': identity.groups.join(',') } : {}),
    ...(identity.isAdmin ? { 'X-User-Roles': 'admin' } : {}),
  };
}

/** Query parameters for the event streams (none mode; EventSource cannot set headers). */
export function streamQuery(identity: Identity): Record<string, string> {
  if (identity.authMode === 'jwt') return {};
  return {
    userId: identity.userId,
    ...(identity.groups.length ? { groups: identity.groups.join(',') } : {}),
    ...(identity.isAdmin ? { roles: 'admin' } : {}),
  };
}
