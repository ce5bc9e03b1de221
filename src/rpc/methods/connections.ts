/**
 * `connect.github` and `connect.aws` (SPEC.md §4, seed 003). The secrets are sealed here, on the
 * instance that received them, before the command leaves for the bus: `{sc}:cmd`, dead letters and
 * every log line only ever see the ciphertext. `POST /api/v1/connect/*` calls the same functions.
 */
import { randomBytes } from 'node:crypto';
import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { sealConnectionSecrets } from '../../connections/connection-secrets.js';
import type { SecretBox } from '../../connections/secret-box.js';
import {
  type AwsConnectResult,
  type ConnectAwsParams,
  type ConnectGitHubParams,
  type ConnectionKind,
  connectAwsParams,
  connectGitHubParams,
  type GitHubConnectResult,
  maskAccessKeyId,
} from '../../domain/connection.js';
import { defineMethod, type RpcContext, type RpcMethod } from '../method.js';
import { envelopeOf, type RpcServices, sendAndWait } from './services.js';

/** A new connection id: seed 003's `gh_…` / `aws_…`, with 20 random hex digits (80 bits). */
export function newConnectionId(kind: ConnectionKind): string {
  return `${kind === 'github' ? 'gh' : 'aws'}_${randomBytes(10).toString('hex')}`;
}

function secretBoxOf(services: RpcServices): SecretBox {
  if (!services.secretBox) {
    throw new Error('RpcServices.secretBox is not wired (main.ts): connections cannot be made');
  }
  return services.secretBox;
}

/** Connects a GitHub repository for the caller: seals the token, sends `ConnectGitHub`, waits. */
export async function connectGitHub(
  services: RpcServices,
  params: ConnectGitHubParams,
  ctx: RpcContext,
): Promise<GitHubConnectResult> {
  const box = secretBoxOf(services);
  const { owner, repo, branch, token } = params;
  const connectionId = newConnectionId('github');
  const sealed = sealConnectionSecrets(box, connectionId, { kind: 'github', token });
  const data = { connectionId, owner, repo, branch, sealed };
  const outcome = await sendAndWait(services, envelopeOf(ctx, uuidv4(), 'ConnectGitHub', data));
  return outcome.result as GitHubConnectResult;
}

/** Connects an AWS account for the caller: seals the credentials, sends `ConnectAws`, waits. */
export async function connectAws(
  services: RpcServices,
  params: ConnectAwsParams,
  ctx: RpcContext,
): Promise<AwsConnectResult> {
  const box = secretBoxOf(services);
  const { region, accessKeyId, secretAccessKey } = params;
  const sessionToken = params.sessionToken || undefined; // seed 003 sends "" for none
  const connectionId = newConnectionId('aws');
  const sealed = sealConnectionSecrets(box, connectionId, {
    kind: 'aws',
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  });
  const data = {
    connectionId,
    region,
    accessKeyIdMasked: maskAccessKeyId(accessKeyId),
    hasSessionToken: sessionToken !== undefined,
    sealed,
  };
  const outcome = await sendAndWait(services, envelopeOf(ctx, uuidv4(), 'ConnectAws', data));
  return outcome.result as AwsConnectResult;
}

/** `connect.github` and `connect.aws`, answered once the connection is recorded. */
export function connectionMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'connect.github',
      summary:
        'Connects a GitHub repository with a personal access token (stored encrypted); answers its githubConnectionId for deploy.start.',
      params: connectGitHubParams,
      result: z.object({
        githubConnectionId: z.string().describe('pass to deploy.start'),
      }),
      errors: [-32029, -32030, -32031],
      handler: (params, ctx) => connectGitHub(services, params, ctx),
    }),
    defineMethod({
      name: 'connect.aws',
      summary:
        'Connects an AWS account with an access key (stored encrypted); answers its awsConnectionId for deploy.start.',
      params: connectAwsParams,
      result: z.object({
        awsConnectionId: z.string().describe('pass to deploy.start'),
      }),
      errors: [-32029, -32030, -32031],
      handler: (params, ctx) => connectAws(services, params, ctx),
    }),
  ];
}
