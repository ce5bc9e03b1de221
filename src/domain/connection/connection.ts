/**
 * Connections of seed 003: a GitHub repository (owner, repo, branch, token) or an AWS account
 * (region, access key id, secret access key, session token) that a deployment later uses. The
 * secrets never enter this module: the instance that receives them seals them and stores them
 * outside the event log, so commands and events here carry the connection id and non-secret fields
 * only. For AWS the access key id is secret-adjacent (it names the account and is half of the
 * credential): events keep it masked, as the AWS CLI shows it, and the full id stays sealed.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isSealed } from '../../connections/secret-box.js';
import { DomainRuleError, type Issue, ValidationError } from '../../errors.js';
import type { CommandPorts } from '../command-definition.js';
import {
  type Command,
  type Decider,
  type DomainEvent,
  eventDecoder,
  eventSchema,
} from '../decider.js';

/** Which service a connection is to. */
export type ConnectionKind = 'github' | 'aws';

/** `gh_` and 10–64 lowercase letters or digits (seed 003: `gh_a1b2c3d4e5`). */
export const GITHUB_CONNECTION_ID = /^gh_[a-z0-9]{10,64}$/;
/** `aws_` and 10–64 lowercase letters or digits (seed 003: `aws_f6g7h8i9j0`). */
export const AWS_CONNECTION_ID = /^aws_[a-z0-9]{10,64}$/;

/** The stream of one connection. */
export function connectionStreamId(connectionId: string): string {
  return `connection-${connectionId}`;
}

// --- params (SPEC.md §4 connect.github / connect.aws, seed 003's request bodies) ---------------
// Messages say what is expected and never quote the value given (it may be a secret).

/** A required string field: "is required" when missing, null or empty. */
function requiredString() {
  return z
    .string({ error: (issue) => (issue.input == null ? 'is required' : 'must be a string') })
    .min(1, { message: 'is required', abort: true });
}

const GITHUB_OWNER = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;
const GITHUB_REPO = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;
const GITHUB_TOKEN = /^[A-Za-z0-9_]{20,255}$/;
const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}$/;
const AWS_ACCESS_KEY_ID = /^[A-Za-z0-9_]{16,128}$/;
const AWS_SECRET_ACCESS_KEY = /^[A-Za-z0-9/+]{40}$/;
const AWS_SESSION_TOKEN = /^[A-Za-z0-9/+=]{0,8192}$/;
/** `*` for every character but the last 4, which are kept. */
const MASKED_ACCESS_KEY_ID = /^\*{12,124}[A-Za-z0-9_]{4}$/;

/** Git's rules for a branch name (git check-ref-format --branch), without its rarer corners. */
export function isBranchName(name: string): boolean {
  if (name.length === 0 || name.length > 255 || name === '@') return false;
  for (const char of name) {
    const code = char.codePointAt(0)!;
    if (code <= 0x20 || code === 0x7f || '~^:?*[\\'.includes(char)) return false;
  }
  if (name.includes('..') || name.includes('@{') || name.startsWith('-') || name.endsWith('.')) {
    return false;
  }
  // no empty component (a leading, trailing or double "/"), none starting "." or ending ".lock"
  return name
    .split('/')
    .every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** `owner` of seed 003: the GitHub organization or user name. */
export const githubOwnerSchema = requiredString()
  .regex(
    GITHUB_OWNER,
    'must be a GitHub user or organization name: 1–39 letters, digits or hyphens, not starting with a hyphen (e.g. your-org)',
  )
  .describe('GitHub organization or user name, e.g. your-org');

/** `repo` of seed 003: the repository name. */
export const githubRepoSchema = requiredString()
  .regex(
    GITHUB_REPO,
    'must be a GitHub repository name: 1–100 letters, digits, ".", "_" or "-" (e.g. your-repo)',
  )
  .describe('GitHub repository name, e.g. your-repo');

/** `branch` of seed 003: the branch to deploy. */
export const githubBranchSchema = requiredString()
  .max(255, 'must be at most 255 characters')
  .refine(isBranchName, {
    message:
      'must be a Git branch name (e.g. main or feature/login): no spaces or ~ ^ : ? * [ \\, no "..", not starting with "-" or ending with "/", "." or ".lock"',
  })
  .describe('the branch to use, e.g. main');

/** Params of `connect.github` (SPEC.md §4) and the body of `POST /api/v1/connect/github`. */
export const connectGitHubParams = z.object({
  owner: githubOwnerSchema,
  repo: githubRepoSchema,
  branch: githubBranchSchema,
  token: requiredString()
    .regex(
      GITHUB_TOKEN,
      'must be a GitHub personal access token (ghp_… or github_pat_…): 20–255 letters, digits or underscores',
    )
    .describe('GitHub personal access token (repo scope); stored encrypted, never returned'),
});

/** Params of `connect.aws` (SPEC.md §4) and the body of `POST /api/v1/connect/aws`. */
export const connectAwsParams = z.object({
  region: requiredString()
    .regex(AWS_REGION, 'must be an AWS region code such as ap-northeast-2 or us-east-1')
    .describe('AWS region, e.g. ap-northeast-2'),
  accessKeyId: requiredString()
    .regex(
      AWS_ACCESS_KEY_ID,
      'must be an AWS access key ID: 16–128 letters, digits or underscores (e.g. AKIAIOSFODNN7EXAMPLE)',
    )
    .describe('AWS access key ID; stored encrypted, events show only its last 4 characters'),
  secretAccessKey: requiredString()
    .regex(
      AWS_SECRET_ACCESS_KEY,
      'must be an AWS secret access key: 40 characters of A–Z a–z 0–9 / +',
    )
    .describe('AWS secret access key; stored encrypted, never returned'),
  sessionToken: z
    .string({ error: 'must be a string' })
    .regex(
      AWS_SESSION_TOKEN,
      'must be an AWS session token from STS: at most 8192 characters of A–Z a–z 0–9 / + =',
    )
    .nullish()
    .describe('AWS session token (temporary STS credentials); empty or absent for none'),
});

/** Validated `connect.github` params. */
export type ConnectGitHubParams = z.output<typeof connectGitHubParams>;
/** Validated `connect.aws` params. */
export type ConnectAwsParams = z.output<typeof connectAwsParams>;

/** An access key id as events show it: `*` for all but its last 4 characters (as the AWS CLI). */
export function maskAccessKeyId(accessKeyId: string): string {
  return `${'*'.repeat(Math.max(accessKeyId.length - 4, 0))}${accessKeyId.slice(-4)}`;
}

// --- secrets (sealed at the edge, stored outside the event log) -------------------------------

/** A GitHub connection's secret: the personal access token. */
export type GitHubSecrets = { readonly kind: 'github'; readonly token: string };

/** An AWS connection's secrets: the whole credential (the key id is only useful with its secret). */
export type AwsSecrets = {
  readonly kind: 'aws';
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
};

/** What a connection keeps sealed. */
export type ConnectionSecrets = GitHubSecrets | AwsSecrets;

/** A new connection id: seed 003's `gh_…` / `aws_…`, with 20 random hex digits (80 bits). */
export function newConnectionId(kind: ConnectionKind): string {
  return `${kind === 'github' ? 'gh' : 'aws'}_${randomBytes(10).toString('hex')}`;
}

// --- commands and events -----------------------------------------------------------------------

/** `ConnectGitHub` as the decider sees it: no token (it was sealed and stored apart). */
export type ConnectGitHubData = {
  readonly connectionId: string;
  readonly owner: string;
  readonly repo: string;
  readonly branch: string;
};

/** `ConnectAws` as the decider sees it: no secret, and the access key id masked. */
export type ConnectAwsData = {
  readonly connectionId: string;
  readonly region: string;
  readonly accessKeyIdMasked: string;
  readonly hasSessionToken: boolean;
};

/** Connects a GitHub repository; the caller (metadata.userId) owns the connection. */
export type ConnectGitHub = Command<'ConnectGitHub', ConnectGitHubData>;
/** Connects an AWS account; the caller (metadata.userId) owns the connection. */
export type ConnectAws = Command<'ConnectAws', ConnectAwsData>;

/** Connection commands (a union, so the `decide` switch is checked for completeness). */
export type ConnectionCommand = ConnectGitHub | ConnectAws;

/** A GitHub repository was connected (non-secret fields only). */
export type GitHubConnected = DomainEvent<
  'GitHubConnected',
  ConnectGitHubData & { readonly userId: string }
>;
/** An AWS account was connected (non-secret fields only). */
export type AwsConnected = DomainEvent<
  'AwsConnected',
  ConnectAwsData & { readonly userId: string }
>;

/** Connection events (a union, so switches over them are checked for completeness). */
export type ConnectionEvent = GitHubConnected | AwsConnected;

/** Decodes a connection stream's stored events. */
export const decodeConnectionEvent = eventDecoder([
  eventSchema(
    'GitHubConnected',
    z.object({
      connectionId: z.string(),
      owner: z.string(),
      repo: z.string(),
      branch: z.string(),
      userId: z.string(),
    }),
  ),
  eventSchema(
    'AwsConnected',
    z.object({
      connectionId: z.string(),
      region: z.string(),
      accessKeyIdMasked: z.string(),
      hasSessionToken: z.boolean(),
      userId: z.string(),
    }),
  ),
]);

/** A connection as the decider sees it: none yet, or what its event recorded. */
export type ConnectionState =
  | { readonly kind: 'none' }
  | ({ readonly kind: 'github' } & GitHubConnected['data'])
  | ({ readonly kind: 'aws' } & AwsConnected['data']);

const NONE: ConnectionState = { kind: 'none' };

const commandSchemas = {
  ConnectGitHub: z.object({
    connectionId: z.string().regex(GITHUB_CONNECTION_ID, 'must be gh_ and 10–64 a–z 0–9'),
    owner: githubOwnerSchema,
    repo: githubRepoSchema,
    branch: githubBranchSchema,
  }),
  ConnectAws: z.object({
    connectionId: z.string().regex(AWS_CONNECTION_ID, 'must be aws_ and 10–64 a–z 0–9'),
    region: connectAwsParams.shape.region,
    accessKeyIdMasked: z
      .string()
      .regex(MASKED_ACCESS_KEY_ID, 'must be "*"s and the last 4 characters of the key id'),
    hasSessionToken: z.boolean(),
  }),
} as const;

/**
 * Checks a connection command's data by the params' rules (it may not have come through them);
 * throws `ValidationError` listing every problem. Handlers call it before storing secrets.
 */
export function validateConnectionCommand(command: ConnectionCommand): void {
  const parsed = commandSchemas[command.type].safeParse(command.data);
  if (parsed.success) return;
  const issues: Issue[] = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message,
  }));
  throw (
    ValidationError.fromIssues(`${command.type} is invalid`, issues) ??
    new ValidationError(`${command.type} is invalid`)
  );
}

function refuseExisting(command: ConnectionCommand, state: ConnectionState): void {
  if (state.kind === 'none') return;
  throw new DomainRuleError(
    'connection-exists',
    `connection ${command.data.connectionId} already exists: connect again for a new connection id`,
  );
}

/** A sealed secret on the bus: never a plain one (`SecretBox.seal`'s form). */
export const sealedSecret = z
  .string()
  .refine(isSealed, 'must be a sealed secret (v1.<keyId>.<iv>.<data>.<tag>)');

/**
 * Before a connection command is decided: checks it whole by the params' rules (nothing is stored
 * for a bad one), then stores its sealed secrets, written once per connection id, so its event
 * always finds them.
 */
export async function storeConnectionSecrets(
  command: ConnectionCommand,
  sealed: string,
  ports: CommandPorts,
): Promise<void> {
  validateConnectionCommand(command);
  await ports.storeSecret(command.data.connectionId, sealed);
}

/** Connections are made once: each has its own stream with exactly one `…Connected` event. */
export const connectionDecider: Decider<ConnectionCommand, ConnectionEvent, ConnectionState> = {
  initialState: () => NONE,
  evolve: (state, event) => {
    switch (event.type) {
      case 'GitHubConnected':
        return { kind: 'github', ...event.data };
      case 'AwsConnected':
        return { kind: 'aws', ...event.data };
      default: {
        // an event type this version does not know changes nothing it decides on
        const _unknown: never = event;
        return state;
      }
    }
  },
  decide: (command, state) => {
    validateConnectionCommand(command);
    refuseExisting(command, state);
    const userId = command.metadata.userId;
    switch (command.type) {
      case 'ConnectGitHub': {
        const { connectionId, owner, repo, branch } = command.data;
        return [{ type: 'GitHubConnected', data: { connectionId, owner, repo, branch, userId } }];
      }
      case 'ConnectAws': {
        const { connectionId, region, accessKeyIdMasked, hasSessionToken } = command.data;
        return [
          {
            type: 'AwsConnected',
            data: { connectionId, region, accessKeyIdMasked, hasSessionToken, userId },
          },
        ];
      }
      default: {
        const unknown: never = command;
        throw new ValidationError(
          `unknown connection command ${(unknown as { type: string }).type}`,
        );
      }
    }
  },
};

/** The `connect.github` result (SPEC.md §4). */
export type GitHubConnectResult = { readonly githubConnectionId: string };
/** The `connect.aws` result (SPEC.md §4). */
export type AwsConnectResult = { readonly awsConnectionId: string };

/** The result recorded with a connection's event: its id, under the name seed 003 gives it. */
export function connectResult(command: ConnectGitHub): GitHubConnectResult;
export function connectResult(command: ConnectAws): AwsConnectResult;
export function connectResult(command: ConnectionCommand): GitHubConnectResult | AwsConnectResult {
  return command.type === 'ConnectGitHub'
    ? { githubConnectionId: command.data.connectionId }
    : { awsConnectionId: command.data.connectionId };
}
