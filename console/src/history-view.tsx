/**
 * History: one stream's events page by page (`events.read`), or the global log for admins
 * (`events.readAll`), oldest first.
 */
import { useState } from 'preact/hooks';
import { RpcCallError } from '../../src/client/index.js';
import type { Live } from './live.js';

interface Envelope {
  id: string;
  type: string;
  streamId: string;
  version: number;
  globalPosition: string;
  data: unknown;
  metadata: { timestamp: string; userId?: string };
}

const PAGE = 50;

/** Where the next page starts. */
type Next =
  | { kind: 'stream'; streamId: string; fromVersion: number }
  | { kind: 'all'; after: string };

export function HistoryView({ live }: { live: Live }) {
  const [streamId, setStreamId] = useState(`trainer-${live.identity.userId}`);
  const [events, setEvents] = useState<readonly Envelope[]>([]);
  const [next, setNext] = useState<Next>();
  const [showing, setShowing] = useState('');
  const [error, setError] = useState('');

  const load = async (from: Next, append: boolean) => {
    try {
      const page =
        from.kind === 'stream'
          ? await live.rpc.call<{ events: Envelope[]; nextVersion: number; isEnd: boolean }>(
              'events.read',
              { streamId: from.streamId, fromVersion: from.fromVersion, limit: PAGE },
            )
          : await live.rpc.call<{ events: Envelope[]; nextPosition: string; isEnd: boolean }>(
              'events.readAll',
              { afterPosition: from.after, limit: PAGE },
            );
      setEvents((old) => (append ? [...old, ...page.events] : page.events));
      setShowing(from.kind === 'stream' ? `stream ${from.streamId}` : 'the global log');
      if (page.isEnd) setNext(undefined);
      else if ('nextVersion' in page && from.kind === 'stream')
        setNext({ ...from, fromVersion: page.nextVersion });
      else if ('nextPosition' in page) setNext({ kind: 'all', after: page.nextPosition });
      setError('');
    } catch (e) {
      setError(e instanceof RpcCallError ? `${e.message} (${e.code})` : String(e));
    }
  };

  return (
    <div>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void load({ kind: 'stream', streamId: streamId.trim(), fromVersion: 1 }, false);
        }}
      >
        <label>
          Stream
          <input
            data-testid="hist-stream"
            value={streamId}
            required
            onInput={(e) => setStreamId(e.currentTarget.value)}
          />
        </label>
        <button type="submit" data-testid="hist-load">
          Load
        </button>
        {live.identity.isAdmin && (
          <button
            type="button"
            data-testid="hist-global"
            onClick={() => void load({ kind: 'all', after: '0' }, false)}
          >
            Global log
          </button>
        )}
      </form>
      {error && (
        <p class="error" role="alert" data-testid="hist-error">
          {error}
        </p>
      )}
      <section class="card" aria-labelledby="events-heading">
        <h2 id="events-heading">
          {showing ? `Events of ${showing}` : 'Events'} ({events.length})
        </h2>
        <table data-testid="hist-events">
          <thead>
            <tr>
              <th scope="col">{showing === 'the global log' ? 'position' : 'version'}</th>
              <th scope="col">stream</th>
              <th scope="col">type</th>
              <th scope="col">time</th>
              <th scope="col">data</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr
                key={e.id}
                data-testid="hist-event"
                data-version={e.version}
                data-position={e.globalPosition}
              >
                <td>{showing === 'the global log' ? e.globalPosition : e.version}</td>
                <td>{e.streamId}</td>
                <td>{e.type}</td>
                <td>{e.metadata.timestamp}</td>
                <td>
                  <code>{JSON.stringify(e.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          data-testid="hist-next"
          disabled={!next}
          onClick={() => next && void load(next, true)}
        >
          Next page
        </button>
      </section>
    </div>
  );
}
