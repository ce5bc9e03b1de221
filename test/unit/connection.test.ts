import { expect } from 'chai';
import type { z } from 'zod';
import {
  type ConnectAws,
  type ConnectAwsData,
  type ConnectGitHub,
  type ConnectGitHubData,
  type ConnectionEvent,
  connectAws as connectAwsCommand,
  connectAwsParams,
  connectGitHub as connectGitHubCommand,
  connectGitHubParams,
  connectionDecider,
  connectionStreamId,
  connectResult,
  isBranchName,
  maskAccessKeyId,
  startDeployment,
} from '../../src/domain/index.js';
import { issuesFromZod } from '../../src/error-codes.js';
import { DomainRuleError, ValidationError } from '../../src/errors.js';
import { commandMethod } from '../../src/rpc/methods/command-method.js';
import { type RpcServices, senderOf } from '../../src/rpc/methods/services.js';
import { openRpcDocument } from '../../src/rpc/openrpc.js';
import { deciderSpecification } from '../support/decider-spec.js';

/** Seed 003's example bodies, verbatim. */
const seedGitHub = {
  owner: 'your-org',
  repo: 'your-repo',
  branch: 'main',
  token: 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};
const seedAws = {
  region: 'ap-northeast-2',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: '',
};

/** `path: message` of every issue, or [] when the input is valid. */
function issues(schema: z.ZodType, input: unknown): string[] {
  const parsed = schema.safeParse(input);
  return parsed.success ? [] : issuesFromZod(parsed.error).map((i) => `${i.path}: ${i.message}`);
}

const metadata = {
  commandId: 'c-1',
  userId: 'ash',
  correlationId: 'k-1',
  timestamp: '2026-01-01T00:00:00.000Z',
};
const github: ConnectGitHubData = {
  connectionId: 'gh_a1b2c3d4e5',
  owner: 'your-org',
  repo: 'your-repo',
  branch: 'main',
};
const aws: ConnectAwsData = {
  connectionId: 'aws_f6g7h8i9j0',
  region: 'ap-northeast-2',
  accessKeyIdMasked: '****************MPLE',
  hasSessionToken: false,
};
const connectGitHub = (data: ConnectGitHubData = github): ConnectGitHub => ({
  type: 'ConnectGitHub',
  data,
  metadata,
});
const connectAws = (data: ConnectAwsData = aws): ConnectAws => ({
  type: 'ConnectAws',
  data,
  metadata,
});
const given = deciderSpecification(connectionDecider);

describe('connection params (seed 003 request bodies)', () => {
  it("accepts seed 003's example bodies as they are", () => {
    expect(issues(connectGitHubParams, seedGitHub)).to.deep.equal([]);
    expect(issues(connectAwsParams, seedAws)).to.deep.equal([]);
    const { sessionToken: _, ...withoutToken } = seedAws;
    expect(issues(connectAwsParams, withoutToken)).to.deep.equal([]);
    expect(issues(connectAwsParams, { ...seedAws, sessionToken: null })).to.deep.equal([]);
    expect(
      issues(connectAwsParams, { ...seedAws, sessionToken: 'FwoGZXIvYXdzEF+/abc==' }),
    ).to.deep.equal([]);
  });

  it('accepts real token and name shapes', () => {
    const ok = (patch: object) => expect(issues(connectGitHubParams, { ...seedGitHub, ...patch }));
    ok({ token: `github_pat_${'A1_'.repeat(27)}x` }).to.deep.equal([]);
    ok({ token: '0123456789abcdef0123456789abcdef01234567' }).to.deep.equal([]);
    ok({ owner: 'john-doe', repo: 'my.repo_name-2', branch: 'feature/login' }).to.deep.equal([]);
    ok({ owner: 'a', repo: '.github' }).to.deep.equal([]);
    for (const region of ['us-east-1', 'eu-central-1', 'us-gov-west-1', 'cn-north-1']) {
      expect(issues(connectAwsParams, { ...seedAws, region }), region).to.deep.equal([]);
    }
  });

  it('says which fields are required (missing, null or empty)', () => {
    expect(issues(connectGitHubParams, {})).to.deep.equal([
      'owner: is required',
      'repo: is required',
      'branch: is required',
      'token: is required',
    ]);
    expect(
      issues(connectAwsParams, { region: '', accessKeyId: null, secretAccessKey: '' }),
    ).to.deep.equal([
      'region: is required',
      'accessKeyId: is required',
      'secretAccessKey: is required',
    ]);
  });

  it('says what a field must be', () => {
    expect(
      issues(connectGitHubParams, { owner: 1, repo: '..', branch: 'a..b', token: 'short' }),
    ).to.deep.equal([
      'owner: must be a string',
      'repo: must be a GitHub repository name: 1–100 letters, digits, ".", "_" or "-" (e.g. your-repo)',
      'branch: must be a Git branch name (e.g. main or feature/login): no spaces or ~ ^ : ? * [ \\, no "..", not starting with "-" or ending with "/", "." or ".lock"',
      'token: must be a GitHub personal access token (ghp_… or github_pat_…): 20–255 letters, digits or underscores',
    ]);
    expect(
      issues(connectAwsParams, {
        region: 'Seoul',
        accessKeyId: 'AKIA-1',
        secretAccessKey: 'x'.repeat(39),
        sessionToken: 'has space',
      }),
    ).to.deep.equal([
      'region: must be an AWS region code such as ap-northeast-2 or us-east-1',
      'accessKeyId: must be an AWS access key ID: 16–128 letters, digits or underscores (e.g. AKIAIOSFODNN7EXAMPLE)',
      'secretAccessKey: must be an AWS secret access key: 40 characters of A–Z a–z 0–9 / +',
      'sessionToken: must be an AWS session token from STS: at most 8192 characters of A–Z a–z 0–9 / + =',
    ]);
    expect(issues(connectGitHubParams, { ...seedGitHub, owner: '-org' })).to.deep.equal([
      'owner: must be a GitHub user or organization name: 1–39 letters, digits or hyphens, not starting with a hyphen (e.g. your-org)',
    ]);
  });

  it('never quotes a value it refuses (a refused secret stays out of errors and logs)', () => {
    const marker = 'SECRETMARKER"\\é';
    const bad = [
      { schema: connectGitHubParams, input: { ...seedGitHub, token: `ghp_${marker}` } },
      { schema: connectGitHubParams, input: { ...seedGitHub, token: [marker] } },
      { schema: connectGitHubParams, input: { owner: marker, repo: marker, branch: marker } },
      { schema: connectGitHubParams, input: { ...seedGitHub, token: marker.repeat(100) } },
      { schema: connectAwsParams, input: { ...seedAws, secretAccessKey: marker } },
      { schema: connectAwsParams, input: { ...seedAws, sessionToken: marker } },
      { schema: connectAwsParams, input: { ...seedAws, accessKeyId: { [marker]: marker } } },
      { schema: connectAwsParams, input: { ...seedAws, region: marker, [marker]: marker } },
    ];
    for (const { schema, input } of bad) {
      const parsed = schema.safeParse(input);
      expect(parsed.success).to.equal(false);
      const text = JSON.stringify(issuesFromZod(parsed.error!));
      expect(text).not.to.include('SECRETMARKER');
    }
  });

  it('deploy.start checks owner, repo and branch by the same rules as connect.github', () => {
    const ids = { githubConnectionId: 'gh_1', awsConnectionId: 'aws_1' };
    const bad = { owner: '-org', repo: '..', branch: 'a..b' };
    const deploy = startDeployment.params.safeParse({ ...ids, ...bad });
    const connect = connectGitHubParams.safeParse({ ...bad, token: 'ghp_'.padEnd(40, 'x') });
    expect(deploy.success).to.equal(false);
    expect(issuesFromZod(deploy.error!)).to.deep.equal(issuesFromZod(connect.error!));
    const good = { owner: 'your-org', repo: 'your-repo', branch: 'feature/login' };
    expect(startDeployment.params.safeParse({ ...ids, ...good }).success).to.equal(true);
  });

  it("checks branch names by git's rules", () => {
    for (const name of ['main', 'develop', 'feature/login', 'release-1.2', 'v1.0', 'fix_ä']) {
      expect(isBranchName(name), name).to.equal(true);
    }
    for (const name of [
      '',
      '-x',
      'a..b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      'x.lock',
      'a/x.lock/b',
      'a/',
      '/a',
      'a//b',
      '.hidden',
      'a/.b',
      'a.',
      '@',
      'a@{b',
      'tab\there',
      'x'.repeat(256),
    ]) {
      expect(isBranchName(name), JSON.stringify(name)).to.equal(false);
    }
  });
});

describe('connection decider (seed 003 connections)', () => {
  it('records a GitHub connection with its non-secret fields and its owner', () => {
    given([])
      .when(connectGitHub())
      .then([{ type: 'GitHubConnected', data: { ...github, userId: 'ash' } }]);
  });

  it('records an AWS connection with the access key id masked', () => {
    given([])
      .when(connectAws({ ...aws, hasSessionToken: true }))
      .then([{ type: 'AwsConnected', data: { ...aws, hasSessionToken: true, userId: 'ash' } }]);
  });

  it('makes a connection once: a second command for its id is refused', () => {
    const existing: ConnectionEvent[] = [
      { type: 'GitHubConnected', data: { ...github, userId: 'ash' } },
    ];
    const error = given(existing).when(connectGitHub()).thenThrows(DomainRuleError);
    expect(error.rule).to.equal('connection-exists');
    expect(error.message).to.include('gh_a1b2c3d4e5');
  });

  it('checks the command whole, even one that did not come through the params', () => {
    const paths = (command: ConnectGitHub | ConnectAws) =>
      given([])
        .when(command)
        .thenThrows(ValidationError)
        .issues.map((i) => i.path);
    expect(paths(connectGitHub({ ...github, connectionId: 'aws_f6g7h8i9j0' }))).to.deep.equal([
      'connectionId',
    ]);
    expect(paths(connectGitHub({ ...github, owner: '', branch: 'a b' }))).to.deep.equal([
      'owner',
      'branch',
    ]);
    // an unmasked key id must never reach an event
    expect(paths(connectAws({ ...aws, accessKeyIdMasked: 'AKIAIOSFODNN7EXAMPLE' }))).to.deep.equal([
      'accessKeyIdMasked',
    ]);
    expect(paths(connectAws({ ...aws, region: 'nowhere' }))).to.deep.equal(['region']);
  });

  it('folds its event into the connection state', () => {
    const state = connectionDecider.evolve(connectionDecider.initialState(), {
      type: 'AwsConnected',
      data: { ...aws, userId: 'ash' },
    });
    expect(state).to.deep.equal({ kind: 'aws', ...aws, userId: 'ash' });
    expect(connectionDecider.initialState()).to.deep.equal({ kind: 'none' });
  });

  it('answers with the connection id under the name seed 003 gives it', () => {
    expect(connectResult(connectGitHub())).to.deep.equal({ githubConnectionId: 'gh_a1b2c3d4e5' });
    expect(connectResult(connectAws())).to.deep.equal({ awsConnectionId: 'aws_f6g7h8i9j0' });
    expect(connectionStreamId('gh_a1b2c3d4e5')).to.equal('connection-gh_a1b2c3d4e5');
  });

  it('masks an access key id as the AWS CLI does: all but the last 4 characters', () => {
    expect(maskAccessKeyId('AKIAIOSFODNN7EXAMPLE')).to.equal('****************MPLE');
    expect(maskAccessKeyId('ASIA0123456789AB')).to.equal('************89AB');
  });
});

describe('connect.github / connect.aws in rpc.discover', () => {
  const services = {} as RpcServices;
  const methods = [connectGitHubCommand, connectAwsCommand].map((d) =>
    commandMethod(d, senderOf(services)),
  );
  const doc = openRpcDocument(methods, { title: 't', version: '0' });

  it('documents the params of seed 003, sessionToken optional, and the results', () => {
    const params = (name: string) =>
      doc.methods
        .find((m) => m.name === name)!
        .params.map((p) => `${p.name}${p.required ? '' : '?'}`);
    expect(params('connect.github')).to.deep.equal(['owner', 'repo', 'branch', 'token']);
    expect(params('connect.aws')).to.deep.equal([
      'region',
      'accessKeyId',
      'secretAccessKey',
      'sessionToken?',
    ]);
    const result = doc.methods.find((m) => m.name === 'connect.github')!.result.schema;
    expect(JSON.stringify(result)).to.include('githubConnectionId');
  });
});
