/**
 * Always visible: the instance serving the stream, its state, where it resumed from, resets, and
 * the counters the frame loop writes (updates applied, frames drawn).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Live } from './live.js';

export function ConnectionBar({ live }: { live: Live }) {
  const [conn, setConn] = useState(live.conn);
  useEffect(() => live.listen(() => setConn(live.conn)), [live]);
  return (
    <section class="conn" aria-label="Connection">
      <span role="status" aria-live="polite">
        Stream:{' '}
        <strong data-testid="conn-state" data-state={conn.state} class={`state-${conn.state}`}>
          {conn.state}
        </strong>
      </span>
      <span>
        instance <code data-testid="conn-server">{conn.serverId}</code>
      </span>
      <span>
        resumed from <code data-testid="conn-resumed-from">{conn.resumedFrom ?? ''}</code>
      </span>
      <span>
        connections <span data-testid="conn-connections">{conn.connections}</span>
      </span>
      <span>
        resets <span data-testid="conn-resets">{conn.resets}</span>
      </span>
      <span>
        updates <span data-testid="updates-applied">0</span> (stale{' '}
        <span data-testid="updates-stale">0</span>)
      </span>
      <span>
        frames <span data-testid="frames-drawn">0</span>
      </span>
      <span>
        trainers <span data-testid="trainers-count">0</span>
      </span>
      {conn.resetNotice && (
        <span class="notice" role="alert" data-testid="conn-reset-notice">
          {conn.resetNotice}
        </span>
      )}
    </section>
  );
}
