/**
 * The operator view (admins): every live instance with its sessions and users, the command
 * backlog, dead letters with redrive, and each projection's position, lag and leader — as numbers
 * and as small live charts of the last 5 minutes. Polls `system.instances` and
 * `command.deadLetters` every 2 s while shown, every 10 s while hidden (the charts keep history).
 */
import { useEffect, useState } from 'preact/hooks';
import { RpcCallError } from '../../src/client/index.js';
import type { Live } from './live.js';
import { type Samples, SparkChart } from './spark-chart.js';

interface Instances {
  readonly instances: readonly {
    serverId: string;
    self: boolean;
    host?: string;
    port?: number;
    startedAt?: string;
    sessions: number;
    connectedUsers: number;
    users: string[];
  }[];
  readonly commands: { backlog: number; lag: number; pending: number; dead: number };
  readonly projections: readonly {
    name: string;
    position: string;
    lagEvents: number;
    leader?: string;
    partitions?: readonly { partition: number; leader?: string }[];
  }[];
}

interface DeadLetter {
  commandId: string;
  userId: string;
  type: string;
  error: string;
  attempts: number;
  at: string;
}

const POLL_MS = 2000;
const HIDDEN_POLL_MS = 10_000;
const KEEP_S = 300;

/** Appends a sample to each series, dropping those older than KEEP_S. */
function append(samples: Samples, t: number, values: readonly number[]): Samples {
  const keepFrom = samples[0].findIndex((s) => s >= t - KEEP_S);
  const from = keepFrom < 0 ? samples[0].length : keepFrom;
  return samples.map((s, i) => [
    ...s.slice(from),
    i === 0 ? t : values[i - 1]!,
  ]) as unknown as Samples;
}

const leaderOf = (p: Instances['projections'][number]) =>
  p.leader ?? p.partitions?.map((q) => q.leader ?? '—').join(', ') ?? '—';

export function OperatorView({ live, visible }: { live: Live; visible: boolean }) {
  const [data, setData] = useState<Instances>();
  const [dead, setDead] = useState<readonly DeadLetter[]>([]);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [sessions, setSessions] = useState<Samples>([[], []]);
  const [backlog, setBacklog] = useState<Samples>([[], [], []]);
  const [lag, setLag] = useState<Samples>([[], []]);

  const refresh = async () => {
    try {
      const [now, letters] = await Promise.all([
        live.rpc.call<Instances>('system.instances'),
        live.rpc.call<{ deadLetters: DeadLetter[] }>('command.deadLetters', { limit: 20 }),
      ]);
      const t = Date.now() / 1000;
      setData(now);
      setDead(letters.deadLetters);
      setSessions((s) => append(s, t, [now.instances.reduce((n, i) => n + i.sessions, 0)]));
      setBacklog((s) => append(s, t, [now.commands.backlog, now.commands.dead]));
      setLag((s) => append(s, t, [now.projections.reduce((n, p) => n + p.lagEvents, 0)]));
      setError('');
    } catch (e) {
      setError(e instanceof RpcCallError ? `${e.message} (${e.code})` : String(e));
    }
  };

  // polled while hidden too, slower, so the charts have the last minutes when opened
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), visible ? POLL_MS : HIDDEN_POLL_MS);
    return () => clearInterval(timer);
  }, [visible, live]);

  const redrive = async (d: DeadLetter) => {
    try {
      await live.rpc.call('command.redrive', { commandId: d.commandId, userId: d.userId });
      setNotice(`redriven: ${d.commandId}`);
      void refresh();
    } catch (e) {
      setNotice(e instanceof RpcCallError ? `redrive refused: ${e.message}` : String(e));
    }
  };

  return (
    <div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="charts">
        <SparkChart
          testid="ops-chart-sessions"
          title="SSE sessions"
          series={['sessions']}
          samples={sessions}
        />
        <SparkChart
          testid="ops-chart-backlog"
          title="Commands"
          series={['backlog', 'dead']}
          samples={backlog}
        />
        <SparkChart
          testid="ops-chart-lag"
          title="Projection lag (events)"
          series={['lag']}
          samples={lag}
        />
      </div>
      <section class="card" aria-labelledby="instances-heading">
        <h2 id="instances-heading">Instances</h2>
        <table data-testid="ops-instances">
          <thead>
            <tr>
              <th scope="col">instance</th>
              <th scope="col">where</th>
              <th scope="col">sessions</th>
              <th scope="col">users</th>
            </tr>
          </thead>
          <tbody>
            {data?.instances.map((i) => (
              <tr
                key={i.serverId}
                data-testid={`ops-instance-${i.serverId}`}
                data-sessions={i.sessions}
                data-users={i.connectedUsers}
              >
                <td>
                  <code>{i.serverId}</code>
                  {i.self ? ' (answering)' : ''}
                </td>
                <td>{i.host ? `${i.host}${i.port ? `:${i.port}` : ''}` : '—'}</td>
                <td>{i.sessions}</td>
                <td data-testid={`ops-users-${i.serverId}`}>{i.users.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card" aria-labelledby="commands-heading">
        <h2 id="commands-heading">Commands</h2>
        <dl class="numbers">
          <dt>backlog</dt>
          <dd data-testid="ops-backlog">{data?.commands.backlog ?? ''}</dd>
          <dt>pending</dt>
          <dd data-testid="ops-pending">{data?.commands.pending ?? ''}</dd>
          <dt>dead</dt>
          <dd data-testid="ops-dead">{data?.commands.dead ?? ''}</dd>
        </dl>
        <h3>Dead letters</h3>
        {notice && <p role="status">{notice}</p>}
        {dead.length === 0 && <p>none</p>}
        <ul data-testid="ops-deadletters">
          {dead.map((d) => (
            <li key={d.commandId}>
              <code>{d.type}</code> by {d.userId} · {d.attempts} attempts · {d.error}{' '}
              <button
                type="button"
                data-testid={`ops-redrive-${d.commandId}`}
                onClick={() => void redrive(d)}
              >
                Redrive {d.commandId.slice(0, 8)}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section class="card" aria-labelledby="projections-heading">
        <h2 id="projections-heading">Projections</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">projection</th>
              <th scope="col">position</th>
              <th scope="col">lag</th>
              <th scope="col">leader</th>
            </tr>
          </thead>
          <tbody>
            {data?.projections.map((p) => (
              <tr
                key={p.name}
                data-testid={`ops-projection-${p.name}`}
                data-position={p.position}
                data-lag={p.lagEvents}
                data-leader={leaderOf(p)}
              >
                <td>{p.name}</td>
                <td>
                  <code>{p.position}</code>
                </td>
                <td>{p.lagEvents}</td>
                <td>{leaderOf(p)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
