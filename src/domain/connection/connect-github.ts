/** `ConnectGitHub` (`connect.github`, `POST /api/v1/connect/github`, seed 003). */
import { z } from 'zod';
import { defineCommand } from '../command-definition.js';
import {
  type ConnectGitHub,
  connectGitHubParams,
  connectionDecider,
  connectionStreamId,
  connectResult,
  decodeConnectionEvent,
  type GitHubSecrets,
  newConnectionId,
  sealedSecret,
  storeConnectionSecrets,
} from './connection.js';

/** `ConnectGitHub`: seals the token at the edge, stores it once, records `GitHubConnected`. */
export const connectGitHub = defineCommand({
  type: 'ConnectGitHub',
  method: {
    name: 'connect.github',
    summary:
      'Connects a GitHub repository with a personal access token (stored encrypted); answers its githubConnectionId for deploy.start.',
  },
  route: { path: '/api/v1/connect/github', message: 'GitHub connection succeeded.' },
  params: connectGitHubParams,
  data: z.object({
    connectionId: z.string(),
    owner: z.string(),
    repo: z.string(),
    branch: z.string(),
    sealed: sealedSecret,
  }),
  answers: [],
  toData: ({ owner, repo, branch, token }, edge) => {
    const connectionId = newConnectionId('github');
    const secrets: GitHubSecrets = { kind: 'github', token };
    const sealed = edge.seal(connectionId, JSON.stringify(secrets));
    return { connectionId, owner, repo, branch, sealed };
  },
  streamId: (c) => connectionStreamId(c.data.connectionId),
  prepare: (c, ports) => storeConnectionSecrets(toConnectGitHub(c), c.data.sealed, ports),
  decider: () => connectionDecider,
  decode: decodeConnectionEvent,
  command: (c) => toConnectGitHub(c),
  result: z.object({ githubConnectionId: z.string() }),
  resultOf: (c) => connectResult(toConnectGitHub(c)),
  answer: z.object({ githubConnectionId: z.string().describe('pass to deploy.start') }),
  answerOf: (result) => result,
});

/** The decider's command: the non-secret fields (the sealed token stays out of the domain). */
function toConnectGitHub({
  data: { connectionId, owner, repo, branch },
  metadata,
}: {
  readonly data: ConnectGitHub['data'];
  readonly metadata: ConnectGitHub['metadata'];
}): ConnectGitHub {
  return { type: 'ConnectGitHub', data: { connectionId, owner, repo, branch }, metadata };
}
