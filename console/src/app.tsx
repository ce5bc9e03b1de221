/** The console: sign-in, then the connection bar and the tabs (console/README.md). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ConnectionBar } from './connection-bar.js';
import { DeploymentsView } from './deployments-view.js';
import { FieldView } from './field/field-view.js';
import { ServerClock } from './field/interpolate.js';
import { TrainerField } from './field/trainers.js';
import { HistoryView } from './history-view.js';
import { currentIdentity, type Identity, signOut } from './identity.js';
import { Live } from './live.js';
import { MessagesView } from './messages-view.js';
import { OperatorView } from './operator-view.js';
import { SignIn } from './sign-in.js';

type Tab = 'field' | 'messages' | 'deployments' | 'operator' | 'history';

const TABS: readonly { tab: Tab; label: string; adminOnly?: boolean }[] = [
  { tab: 'field', label: 'Field' },
  { tab: 'messages', label: 'Messages' },
  { tab: 'deployments', label: 'Deployments' },
  { tab: 'operator', label: 'Operator', adminOnly: true },
  { tab: 'history', label: 'History' },
];

/** The instances to stream from: `?instances=a,b` or the page's own origin. */
function instanceUrls(): string[] {
  const listed = new URLSearchParams(location.search).get('instances');
  const urls = listed
    ?.split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  return urls?.length ? urls : [location.origin];
}

export function App() {
  const [auth, setAuth] = useState<{ authMode: 'none' | 'jwt'; identity?: Identity }>();
  const [error, setError] = useState('');
  useEffect(() => {
    currentIdentity()
      .then((a) =>
        setAuth({ authMode: a.authMode, ...(a.identity ? { identity: a.identity } : {}) }),
      )
      .catch((e: unknown) => setError(`cannot reach the server: ${String(e)}`));
  }, []);

  if (error || !auth?.identity) {
    return (
      <>
        <header>
          <Title />
        </header>
        <main>
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : auth ? (
            <SignIn
              authMode={auth.authMode}
              onSignedIn={(identity) => setAuth({ ...auth, identity })}
            />
          ) : (
            <p>Loading…</p>
          )}
        </main>
      </>
    );
  }
  const identity = auth.identity;
  return (
    <SignedIn
      key={identity.userId}
      identity={identity}
      onSignOut={() => {
        void signOut(identity).then(() => setAuth({ authMode: auth.authMode }));
      }}
    />
  );
}

function Title() {
  return (
    <h1>
      streamcast <span class="subtitle">live console</span>
    </h1>
  );
}

function SignedIn({ identity, onSignOut }: { identity: Identity; onSignOut: () => void }) {
  const live = useMemo(
    () => new Live(identity, instanceUrls(), new TrainerField(), new ServerClock()),
    [identity],
  );
  useEffect(() => {
    live.start();
    return () => live.close();
  }, [live]);
  const [tab, setTab] = useState<Tab>('field');
  const tabs = TABS.filter((t) => !t.adminOnly || identity.isAdmin);

  const onTabKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.tab === tab);
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = tabs[(i + step + tabs.length) % tabs.length]!;
    setTab(next.tab);
    document.getElementById(`tab-${next.tab}`)?.focus();
  };

  return (
    <>
      <header>
        <Title />
        <div class="who">
          Signed in as{' '}
          <strong data-testid="whoami" data-admin={String(identity.isAdmin)}>
            {identity.userId}
          </strong>
          {identity.isAdmin ? ' (admin)' : ''}
          {identity.groups.length ? ` · groups ${identity.groups.join(', ')}` : ''}{' '}
          <button type="button" data-testid="signout" onClick={onSignOut}>
            Sign out
          </button>
        </div>
        <ConnectionBar live={live} />
        <div role="tablist" aria-label="Views" tabIndex={-1} onKeyDown={onTabKey}>
          {tabs.map((t) => (
            <button
              type="button"
              role="tab"
              key={t.tab}
              id={`tab-${t.tab}`}
              data-testid={`tab-${t.tab}`}
              aria-selected={tab === t.tab}
              aria-controls={`view-${t.tab}`}
              tabIndex={tab === t.tab ? 0 : -1}
              onClick={() => setTab(t.tab)}
            >
              {t.label}
            </button>
          ))}
        </div>
      </header>
      <main>
        {tabs.map((t) => (
          <section
            key={t.tab}
            id={`view-${t.tab}`}
            data-testid={`view-${t.tab}`}
            role="tabpanel"
            aria-labelledby={`tab-${t.tab}`}
            hidden={tab !== t.tab}
          >
            {t.tab === 'field' && <FieldView live={live} />}
            {t.tab === 'messages' && <MessagesView live={live} />}
            {t.tab === 'deployments' && <DeploymentsView live={live} />}
            {t.tab === 'operator' && <OperatorView live={live} visible={tab === 'operator'} />}
            {t.tab === 'history' && <HistoryView live={live} />}
          </section>
        ))}
      </main>
    </>
  );
}
