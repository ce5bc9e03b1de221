/**
 * Deployments (seed 003): make the GitHub and AWS connections (prefilled with the seed's example
 * values, which the simulated runner accepts), start a deployment, watch its stages live on the
 * deployment's own stream (`GET /api/v1/deploy/{id}/events`), then show its result.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { RpcCallError } from '../../src/client/index.js';
import { command } from './failover-rpc.js';
import { streamQuery } from './identity.js';
import type { Live } from './live.js';

interface Stage {
  readonly stage: number;
  state: 'running' | 'done' | 'failed';
  readonly messages: string[];
}

interface Result {
  readonly status: string;
  readonly errorCode?: string | null;
  readonly errorMessage?: string | null;
  readonly durationSeconds?: number | null;
  readonly finalService?: string | null;
  readonly blueUrl?: string | null;
  readonly greenUrl?: string | null;
  readonly eventCount?: number;
}

const describe = (e: unknown) =>
  e instanceof RpcCallError ? `${e.message} (${e.code})` : String(e);

export function DeploymentsView({ live }: { live: Live }) {
  const [gh, setGh] = useState({
    owner: 'your-org',
    repo: 'shop',
    branch: 'main',
    token: `ghp_${'a'.repeat(36)}`,
  });
  const [aws, setAws] = useState({
    region: 'ap-northeast-2',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  });
  const [ghId, setGhId] = useState('');
  const [awsId, setAwsId] = useState('');
  const [target, setTarget] = useState({ owner: 'your-org', repo: 'shop', branch: 'main' });
  const [deploymentId, setDeploymentId] = useState('');
  const [status, setStatus] = useState('');
  const [stages, setStages] = useState<Stage[]>([]);
  const [result, setResult] = useState<Result>();
  const [error, setError] = useState('');
  const source = useRef<EventSource>(undefined);
  useEffect(() => () => source.current?.close(), []);

  const connect = async (kind: 'github' | 'aws') => {
    try {
      if (kind === 'github') {
        const r = await live.rpc.call<{ githubConnectionId: string }>('connect.github', gh);
        setGhId(r.githubConnectionId);
      } else {
        const r = await live.rpc.call<{ awsConnectionId: string }>('connect.aws', aws);
        setAwsId(r.awsConnectionId);
      }
      setError('');
    } catch (e) {
      setError(describe(e));
    }
  };

  const fetchResult = async (id: string) => {
    for (let i = 0; i < 50; i++) {
      try {
        const r = await live.rpc.call<Result>('deploy.result', { deploymentId: id });
        setResult(r);
        setStatus(r.status);
        return;
      } catch (e) {
        if (!(e instanceof RpcCallError && e.code === -32011)) return setError(describe(e));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };

  const follow = (id: string) => {
    source.current?.close();
    const url = new URL(`/api/v1/deploy/${encodeURIComponent(id)}/events`, live.urls[0]);
    for (const [k, v] of Object.entries(streamQuery(live.identity))) url.searchParams.set(k, v);
    const es = new EventSource(url);
    source.current = es;
    const data = (e: Event): unknown => JSON.parse((e as MessageEvent<string>).data);
    es.addEventListener('stage', (e) => {
      const d = data(e) as { message: string; details?: { stage?: number } };
      const n = Number(d.details?.stage ?? 0);
      setStatus('RUNNING');
      setStages((old) => {
        const next = old.map((s) => (s.stage < n ? { ...s, state: 'done' as const } : s));
        const at = next.find((s) => s.stage === n);
        if (at)
          return next.map((s) => (s === at ? { ...s, messages: [...s.messages, d.message] } : s));
        return [...next, { stage: n, state: 'running', messages: [d.message] }];
      });
    });
    es.addEventListener('done', () => {
      es.close();
      setStages((old) => old.map((s) => ({ ...s, state: 'done' })));
      void fetchResult(id);
    });
    es.addEventListener('error', (e) => {
      if (!('data' in e) || typeof e.data !== 'string') return; // a connection error: it retries
      es.close();
      const d = JSON.parse(e.data) as { stage?: number; message: string };
      setStages((old) =>
        old.map((s) =>
          s.stage === d.stage ? { ...s, state: 'failed', messages: [...s.messages, d.message] } : s,
        ),
      );
      void fetchResult(id);
    });
  };

  const start = async () => {
    setResult(undefined);
    setStages([]);
    setError('');
    try {
      const r = await live.rpc.call<{ deploymentId: string }>(
        'deploy.start',
        command({ githubConnectionId: ghId, awsConnectionId: awsId, ...target }),
      );
      setDeploymentId(r.deploymentId);
      setStatus('QUEUED');
      follow(r.deploymentId);
    } catch (e) {
      setError(describe(e));
    }
  };

  const field = (
    testid: string,
    label: string,
    value: string,
    set: (v: string) => void,
    type: 'text' | 'password' = 'text',
  ) => {
    const common = {
      'data-testid': testid,
      value,
      autoComplete: 'off',
      onInput: (e: { currentTarget: HTMLInputElement }) => set(e.currentTarget.value),
    };
    return (
      // biome-ignore lint/a11y/noLabelWithoutControl: the input is inside, its props spread
      <label>
        {label}
        {type === 'password' ? <input type="password" {...common} /> : <input {...common} />}
      </label>
    );
  };

  return (
    <div class="two-columns">
      <div>
        <section class="card" aria-labelledby="gh-heading">
          <h2 id="gh-heading">GitHub connection</h2>
          {field('gh-owner', 'Owner', gh.owner, (owner) => setGh({ ...gh, owner }))}
          {field('gh-repo', 'Repository', gh.repo, (repo) => setGh({ ...gh, repo }))}
          {field('gh-branch', 'Branch', gh.branch, (branch) => setGh({ ...gh, branch }))}
          {field('gh-token', 'Token', gh.token, (token) => setGh({ ...gh, token }), 'password')}
          <button type="button" data-testid="gh-connect" onClick={() => void connect('github')}>
            Connect GitHub
          </button>{' '}
          <code data-testid="gh-connection">{ghId}</code>
        </section>
        <section class="card" aria-labelledby="aws-heading">
          <h2 id="aws-heading">AWS connection</h2>
          {field('aws-region', 'Region', aws.region, (region) => setAws({ ...aws, region }))}
          {field('aws-key', 'Access key id', aws.accessKeyId, (accessKeyId) =>
            setAws({ ...aws, accessKeyId }),
          )}
          {field(
            'aws-secret',
            'Secret access key',
            aws.secretAccessKey,
            (secretAccessKey) => setAws({ ...aws, secretAccessKey }),
            'password',
          )}
          <button type="button" data-testid="aws-connect" onClick={() => void connect('aws')}>
            Connect AWS
          </button>{' '}
          <code data-testid="aws-connection">{awsId}</code>
        </section>
        <section class="card" aria-labelledby="deploy-heading">
          <h2 id="deploy-heading">Deploy</h2>
          {field('deploy-owner', 'Owner', target.owner, (owner) => setTarget({ ...target, owner }))}
          {field('deploy-repo', 'Repository (fail-at-stage-N fails stage N)', target.repo, (repo) =>
            setTarget({ ...target, repo }),
          )}
          {field('deploy-branch', 'Branch', target.branch, (branch) =>
            setTarget({ ...target, branch }),
          )}
          <button
            type="button"
            data-testid="deploy-start"
            disabled={!ghId || !awsId}
            onClick={() => void start()}
          >
            Start deployment
          </button>
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">
          Deployment <code data-testid="deploy-id">{deploymentId}</code>{' '}
          <span data-testid="deploy-status" class={`status-${status}`}>
            {status}
          </span>
        </h2>
        <ol class="timeline" data-testid="deploy-timeline">
          {stages.map((s) => (
            <li
              key={s.stage}
              data-testid={`deploy-stage-${s.stage}`}
              data-state={s.state}
              class={`stage-${s.state}`}
            >
              <strong>
                Stage {s.stage}: {s.state}
              </strong>
              <ul>
                {s.messages.map((m, i) => (
                  <li key={i}>{m}</li>
                ))}
              </ul>
            </li>
          ))}
        </ol>
        {result && <ResultView result={result} />}
      </section>
    </div>
  );
}

function ResultView({ result }: { result: Result }) {
  return (
    <div data-testid="deploy-result" class={`result status-${result.status}`}>
      <h3>
        Result: <span data-testid="deploy-result-status">{result.status}</span>
      </h3>
      {result.status === 'FAILED' ? (
        <p>
          <code data-testid="deploy-error-code">{result.errorCode}</code> {result.errorMessage}
        </p>
      ) : (
        <p>
          live on {result.finalService} ({result.greenUrl}) after {result.durationSeconds} s
        </p>
      )}
      <p>{result.eventCount} events in the deployment's stream</p>
    </div>
  );
}
