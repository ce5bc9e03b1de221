/** The sign-in form: a user name (groups, admin) with AUTH_MODE=none, a token with jwt. */
import { useState } from 'preact/hooks';
import { type Identity, signInAs, signInWithToken } from './identity.js';

export function SignIn({
  authMode,
  onSignedIn,
}: {
  authMode: 'none' | 'jwt';
  onSignedIn: (identity: Identity) => void;
}) {
  const [error, setError] = useState('');
  const [user, setUser] = useState('');
  const [groups, setGroups] = useState('');
  const [admin, setAdmin] = useState(false);
  const [token, setToken] = useState('');

  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      onSignedIn(authMode === 'jwt' ? await signInWithToken(token) : signInAs(user, groups, admin));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <form class="signin" data-testid="signin-form" onSubmit={submit}>
      <h2>Sign in</h2>
      {authMode === 'none' ? (
        <>
          <p class="hint">
            AUTH_MODE=none (development): you are whoever you say. The identity stays in this tab.
          </p>
          <label>
            User name
            <input
              data-testid="signin-user"
              value={user}
              required
              autoComplete="username"
              onInput={(e) => setUser(e.currentTarget.value)}
            />
          </label>
          <label>
            Groups (comma list, optional)
            <input
              data-testid="signin-groups"
              value={groups}
              onInput={(e) => setGroups(e.currentTarget.value)}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              data-testid="signin-admin"
              checked={admin}
              onChange={(e) => setAdmin(e.currentTarget.checked)}
            />
            Admin
          </label>
        </>
      ) : (
        <label>
          Token (JWT)
          <textarea
            data-testid="signin-token"
            value={token}
            required
            rows={4}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
      )}
      <button type="submit" data-testid="signin-submit">
        Sign in
      </button>
      {error && (
        <p class="error" role="alert" data-testid="signin-error">
          {error}
        </p>
      )}
    </form>
  );
}
