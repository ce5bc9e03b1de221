/**
 * Deployments of seed 003 as events (SPEC.md §6, §7): six stages, each a list of progress steps,
 * run by a process manager whose every append carries the expected version and a step key. This
 * module is pure: ids, the stage catalogue with the seed's messages in English, error codes,
 * the fold of a deployment's stream, and the simulated result.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DomainRuleError, NotFoundError } from '../../errors.js';
import type { Json, NotificationRecord } from '../../events/envelope.js';
import {
  type Command,
  type Decider,
  type DomainEvent,
  type EventContext,
  type EventDecoder,
  eventDecoder,
  eventSchema,
} from '../decider.js';

/** Statuses of SPEC.md §7. */
export type DeploymentStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/** The error code of a failure at each stage (SPEC.md §7). */
export const STAGE_ERROR_CODES: Readonly<Record<number, string>> = {
  1: 'DOCKER_BUILD_FAILED',
  2: 'ECR_PUSH_FAILED',
  3: 'ECS_DEPLOYMENT_FAILED',
  4: 'CODEDEPLOY_FAILED',
  5: 'HEALTH_CHECK_FAILED',
  6: 'UNEXPECTED_ERROR',
};
export const TIMEOUT_CODE = 'DEPLOYMENT_TIMEOUT';
export const STAGES = [1, 2, 3, 4, 5, 6] as const;

/** What a deployment was asked to deploy. */
export interface DeploymentSpec {
  readonly deploymentId: string;
  readonly owner: string;
  readonly repo: string;
  readonly branch: string;
  readonly githubConnectionId: string;
  readonly awsConnectionId: string;
  /** Who started it: its notifications go to this user. */
  readonly userId: string;
  readonly startedAt: string;
}

/** One progress step: the seed's message and `details` (without `stage`, added when recorded). */
export interface StageStep {
  readonly message: string;
  readonly details: Readonly<Record<string, Json>>;
}

/** A deployment id: `dep_` and 32 hex digits (ids made before them had 10, still accepted). */
export const DEPLOYMENT_ID = /^dep_(?:[0-9a-f]{32}|[0-9a-f]{10})$/;

/**
 * The deployment id of a `StartDeployment` command: derived from its sender and id, so a retry
 * gets the same; 128 bits of a hash, so nobody finds another user's deployment by guessing.
 */
export function deploymentIdOf(userId: string, commandId: string): string {
  return `dep_${createHash('sha256').update(`${userId}:${commandId}`).digest('hex').slice(0, 32)}`;
}

export function deploymentStreamId(deploymentId: string): string {
  return `deployment-${deploymentId}`;
}

const urls = (repo: string) => ({
  blueUrl: `http://blue.${repo}.local`,
  greenUrl: `http://green.${repo}.local`,
});

/** The progress steps of each stage, as seed 003 lists them (messages in English). */
export function stageSteps(stage: number, spec: DeploymentSpec): readonly StageStep[] {
  const stamp = Date.parse(spec.startedAt);
  const workdir = `/tmp/deployment_${stamp}`;
  const imageName = `${spec.owner}-${spec.repo}-${spec.branch}-${stamp}`;
  const repository = `${spec.owner}-${spec.repo}`;
  const uri = `123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/${repository}:${imageName}`;
  const { blueUrl, greenUrl } = urls(spec.repo);
  switch (stage) {
    case 1:
      return [
        {
          message: '[Stage 1] Dockerfile search and Docker build - cloning the repository...',
          details: {},
        },
        { message: '[Stage 1] Repository cloned', details: { path: workdir } },
        { message: '[Stage 1] Dockerfile found', details: { path: `${workdir}/Dockerfile` } },
        { message: '[Stage 1] Docker image built', details: { imageName } },
      ];
    case 2:
      return [
        {
          message: '[Stage 2] Pushing the image to ECR - pushing the image to ECR...',
          details: {},
        },
        { message: '[Stage 2] ECR repository checked', details: { repository } },
        { message: '[Stage 2] Logged in to ECR', details: {} },
        { message: '[Stage 2] Image pushed', details: { uri } },
      ];
    case 3:
      return [
        { message: '[Stage 3] ECS deployment started', details: { image: uri } },
        {
          message: '[Stage 3] ECS service created',
          details: { serviceName: 'panda-service', clusterName: 'panda-cluster' },
        },
        { message: '[Stage 3] ECS service updated', details: { serviceName: 'panda-service' } },
      ];
    case 4:
      return [
        { message: '[Stage 4] CodeDeploy Blue/Green deployment started', details: { image: uri } },
        { message: '[Stage 4] Blue service running', details: { url: blueUrl } },
        { message: '[Stage 4] Starting the Green service', details: { url: greenUrl } },
        { message: '[Stage 4] Green service ready', details: { url: greenUrl } },
        { message: '[Stage 4] CodeDeploy Lifecycle Hook: BeforeAllowTraffic', details: {} },
        { message: '[Stage 4] CodeDeploy Lifecycle Hook: AfterAllowTraffic', details: {} },
      ];
    case 5:
      return [
        {
          message: '[Stage 5] Green service health check and traffic switch',
          details: { url: greenUrl },
        },
        ...[1, 2, 3, 4, 5].map((i) => ({
          message: `[Stage 5] Green service health check in progress - Check ${i}/5`,
          details: { url: greenUrl },
        })),
        { message: '[Stage 5] Health check passed', details: { url: greenUrl, passedChecks: 5 } },
        { message: '[Stage 5] Switching traffic', details: { from: 'blue', to: 'green' } },
        { message: '[Stage 5] Traffic switched', details: { activeService: 'green' } },
      ];
    case 6:
      return [
        {
          message: '[Stage 6] Deployment complete',
          details: { finalService: 'green', blueUrl, greenUrl },
        },
      ];
    default:
      throw new Error(`there is no stage ${stage}`);
  }
}

/** The simulated runner's result fields, derived deterministically from the deployment id. */
export function simulatedResult(spec: DeploymentSpec): Record<string, Json> {
  const h = createHash('sha256').update(spec.deploymentId).digest();
  return {
    finalService: 'green',
    ...urls(spec.repo),
    blueLatencyMs: 150 + (h[0]! % 150),
    greenLatencyMs: 100 + (h[1]! % 150),
    blueErrorRate: (h[2]! % 20) / 1000,
    greenErrorRate: (h[3]! % 10) / 1000,
  };
}

// --- events ------------------------------------------------------------------------------------

/** Result fields: what a stage or the runner sets (`::set`, the simulated result). */
export type Fields = { readonly [k: string]: Json };

const fields: z.ZodType<Fields> = z.record(z.string(), z.json());

/** The data of each deployment event, by type: the schemas decode them, the types follow. */
const eventData = {
  /** The deployment was asked for and its job queued; `userId` started it (and is notified). */
  DeploymentStarted: z.object({
    deploymentId: z.string(),
    githubConnectionId: z.string(),
    awsConnectionId: z.string(),
    owner: z.string(),
    repo: z.string(),
    branch: z.string(),
    userId: z.string(),
    startedAt: z.string(),
  }),
  /** A runner took the deployment (again, after a crash: `attempt` counts the runners). */
  RunnerClaimed: z.object({
    deploymentId: z.string(),
    attempt: z.number().int(),
    serverId: z.string(),
  }),
  /** One progress step of a stage, with the seed's message and details. */
  StageProgressed: z.object({
    deploymentId: z.string(),
    stage: z.number().int(),
    step: z.number().int(),
    message: z.string(),
    details: fields,
  }),
  /** A stage finished, with the result fields it set. */
  StageCompleted: z.object({ deploymentId: z.string(), stage: z.number().int(), fields }),
  /** Every stage finished: the result object of SPEC.md §6. */
  DeploymentCompleted: z.object({
    deploymentId: z.string(),
    completedAt: z.string(),
    result: fields,
  }),
  /** A stage failed, timed out, or the job could not run (then without a result object). */
  DeploymentFailed: z.object({
    deploymentId: z.string(),
    stage: z.number().int(),
    errorCode: z.string(),
    errorMessage: z.string(),
    completedAt: z.string(),
    result: fields.optional(),
  }),
} as const;

type Data<T extends keyof typeof eventData> = z.output<(typeof eventData)[T]>;

export type DeploymentStarted = DomainEvent<'DeploymentStarted', Data<'DeploymentStarted'>>;
export type RunnerClaimed = DomainEvent<'RunnerClaimed', Data<'RunnerClaimed'>>;
export type StageProgressed = DomainEvent<'StageProgressed', Data<'StageProgressed'>>;
export type StageCompleted = DomainEvent<'StageCompleted', Data<'StageCompleted'>>;
export type DeploymentCompleted = DomainEvent<'DeploymentCompleted', Data<'DeploymentCompleted'>>;
export type DeploymentFailed = DomainEvent<'DeploymentFailed', Data<'DeploymentFailed'>>;

/** Deployment events (a union, so switches over them are checked for completeness). */
export type DeploymentEvent =
  | DeploymentStarted
  | RunnerClaimed
  | StageProgressed
  | StageCompleted
  | DeploymentCompleted
  | DeploymentFailed;

/** The event types of a deployment's stream. */
export const DEPLOYMENT_EVENT_TYPES = [
  'DeploymentStarted',
  'RunnerClaimed',
  'StageProgressed',
  'StageCompleted',
  'DeploymentCompleted',
  'DeploymentFailed',
] as const satisfies readonly DeploymentEvent['type'][];

/** Decodes a deployment stream's stored events. */
export const decodeDeploymentEvent: EventDecoder<DeploymentEvent> = eventDecoder([
  eventSchema('DeploymentStarted', eventData.DeploymentStarted),
  eventSchema('RunnerClaimed', eventData.RunnerClaimed),
  eventSchema('StageProgressed', eventData.StageProgressed),
  eventSchema('StageCompleted', eventData.StageCompleted),
  eventSchema('DeploymentCompleted', eventData.DeploymentCompleted),
  eventSchema('DeploymentFailed', eventData.DeploymentFailed),
]);

// --- state ---------------------------------------------------------------------------------------

/** A deployment as its stream tells it. */
export interface DeploymentState {
  readonly spec?: DeploymentSpec;
  readonly status: DeploymentStatus;
  /** Runner attempts so far (RunnerClaimed events). */
  readonly attempt: number;
  /** The highest stage whose StageCompleted is recorded (0: none). */
  readonly stagesDone: number;
  /** When each stage's first event was recorded (its timeout counts from there). */
  readonly stageStartedAt: Readonly<Record<number, string>>;
  /** Result fields set by the runner (`::set` lines, the simulated result). */
  readonly fields: Fields;
  readonly failure?: {
    readonly stage: number;
    readonly errorCode: string;
    readonly message: string;
  };
  readonly completedAt?: string;
  readonly version: number;
}

export const NO_DEPLOYMENT: DeploymentState = {
  status: 'QUEUED',
  attempt: 0,
  stagesDone: 0,
  stageStartedAt: {},
  fields: {},
  version: 0,
};

/** Folds one event of a deployment's stream (its time, for a stage's start, from its metadata). */
export function evolveDeployment(state: DeploymentState, event: DeploymentEvent): DeploymentState {
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'DeploymentStarted': {
      const { deploymentId, owner, repo, branch, githubConnectionId, awsConnectionId } = event.data;
      const { userId, startedAt } = event.data;
      const spec = { deploymentId, owner, repo, branch, githubConnectionId, awsConnectionId };
      return { ...next, spec: { ...spec, userId, startedAt } };
    }
    case 'RunnerClaimed':
      return { ...next, status: 'RUNNING', attempt: event.data.attempt };
    case 'StageProgressed': {
      const { stage } = event.data;
      const started = state.stageStartedAt[stage] ?? event.metadata?.timestamp;
      if (started === undefined) return next;
      return { ...next, stageStartedAt: { ...state.stageStartedAt, [stage]: started } };
    }
    case 'StageCompleted':
      return {
        ...next,
        stagesDone: event.data.stage,
        fields: { ...state.fields, ...event.data.fields },
      };
    case 'DeploymentCompleted':
      return {
        ...next,
        status: 'COMPLETED',
        completedAt: event.data.completedAt,
        fields: { ...state.fields, ...event.data.result },
      };
    case 'DeploymentFailed': {
      const { stage, errorCode, errorMessage, completedAt } = event.data;
      const failure = { stage, errorCode, message: errorMessage };
      return { ...next, status: 'FAILED', completedAt, failure };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** True once the deployment has its final event. */
export function isFinished(state: DeploymentState): boolean {
  return state.status === 'COMPLETED' || state.status === 'FAILED';
}

/** The result object of SPEC.md §6 for a finished deployment. */
export function resultOf(state: DeploymentState): Record<string, Json> {
  const spec = state.spec;
  if (!spec) throw new Error('a deployment without DeploymentStarted has no result');
  const f = state.fields;
  const completed = state.status === 'COMPLETED';
  const durationSeconds = state.completedAt
    ? Math.round((Date.parse(state.completedAt) - Date.parse(spec.startedAt)) / 1000)
    : null;
  const pick = (k: string) => (f[k] === undefined ? null : f[k]!);
  return {
    deploymentId: spec.deploymentId,
    status: state.status,
    owner: spec.owner,
    repo: spec.repo,
    branch: spec.branch,
    startedAt: spec.startedAt,
    completedAt: state.completedAt ?? null,
    durationSeconds,
    finalService: completed ? pick('finalService') : null,
    blueUrl: pick('blueUrl'),
    greenUrl: completed ? pick('greenUrl') : null,
    errorMessage: state.failure?.message ?? null,
    errorCode: state.failure?.errorCode ?? null,
    blueLatencyMs: completed ? pick('blueLatencyMs') : null,
    greenLatencyMs: completed ? pick('greenLatencyMs') : null,
    blueErrorRate: completed ? pick('blueErrorRate') : null,
    greenErrorRate: completed ? pick('greenErrorRate') : null,
    eventCount: state.version,
  };
}

// --- commands --------------------------------------------------------------------------------------

/** What `StartDeployment` needs to know of a connection it names (read before deciding). */
export type ConnectionFact = {
  readonly type: string;
  /** The user who made the connection. */
  readonly userId: string;
};

/** `StartDeployment` as the decider sees it: the spec and the facts of its two connections. */
export type StartDeployment = Command<
  'StartDeployment',
  {
    readonly deploymentId: string;
    readonly githubConnectionId: string;
    readonly awsConnectionId: string;
    readonly owner: string;
    readonly repo: string;
    readonly branch: string;
    readonly github?: ConnectionFact;
    readonly aws?: ConnectionFact;
  }
>;
/** A runner claims the deployment (the process manager's first step of every attempt). */
export type ClaimRunner = Command<
  'ClaimRunner',
  { readonly attempt: number; readonly serverId: string }
>;
/** Records one progress step of a stage. */
export type RecordProgress = Command<
  'RecordProgress',
  {
    readonly stage: number;
    readonly step: number;
    readonly message: string;
    readonly details: Fields;
  }
>;
/** Records a finished stage and the fields it set. */
export type CompleteStage = Command<
  'CompleteStage',
  { readonly stage: number; readonly fields: Fields }
>;
/** Finishes the deployment with every field the stages set. */
export type CompleteDeployment = Command<'CompleteDeployment', { readonly fields: Fields }>;
/** Fails the deployment; `withResult` records the result object (not when the job never ran). */
export type FailDeployment = Command<
  'FailDeployment',
  {
    readonly stage: number;
    readonly errorCode: string;
    readonly errorMessage: string;
    readonly withResult: boolean;
  }
>;

/** Deployment commands (a union, so the `decide` switch is checked for completeness). */
export type DeploymentCommand =
  | StartDeployment
  | ClaimRunner
  | RecordProgress
  | CompleteStage
  | CompleteDeployment
  | FailDeployment;

function connectionOf(
  fact: ConnectionFact | undefined,
  type: 'GitHubConnected' | 'AwsConnected',
  id: string,
  userId: string,
): void {
  if (fact?.type === type && fact.userId === userId) return;
  const [kind, name] =
    type === 'GitHubConnected' ? ['githubConnection', 'GitHub'] : ['awsConnection', 'AWS'];
  throw new NotFoundError(kind, id, `${name} connection not found`);
}

function start(command: StartDeployment, state: DeploymentState): DeploymentStarted {
  const { deploymentId, githubConnectionId, awsConnectionId, owner, repo, branch } = command.data;
  const { userId, timestamp } = command.metadata;
  connectionOf(command.data.github, 'GitHubConnected', githubConnectionId, userId);
  connectionOf(command.data.aws, 'AwsConnected', awsConnectionId, userId);
  if (state.spec) {
    throw new DomainRuleError('deployment-exists', `deployment ${deploymentId} already exists`);
  }
  return {
    type: 'DeploymentStarted',
    data: {
      deploymentId,
      githubConnectionId,
      awsConnectionId,
      owner,
      repo,
      branch,
      userId,
      startedAt: timestamp,
    },
  };
}

/** The deployment the process manager works on: it must exist and not be finished. */
function running(state: DeploymentState): DeploymentSpec {
  if (!state.spec)
    throw new DomainRuleError('deployment-missing', 'the deployment was not started');
  if (isFinished(state)) {
    throw new DomainRuleError(
      'deployment-finished',
      `deployment ${state.spec.deploymentId} is already ${state.status}`,
    );
  }
  return state.spec;
}

/** The result object as it reads once `event` is recorded (the event counts in `eventCount`). */
function resultAfter(state: DeploymentState, event: DeploymentEvent): Fields {
  return resultOf(evolveDeployment(state, event));
}

function finish(command: CompleteDeployment, state: DeploymentState): DeploymentCompleted {
  const { deploymentId } = running(state);
  const completedAt = command.metadata.timestamp;
  const provisional: DeploymentCompleted = {
    type: 'DeploymentCompleted',
    data: { deploymentId, completedAt, result: { ...state.fields, ...command.data.fields } },
  };
  return {
    type: 'DeploymentCompleted',
    data: { deploymentId, completedAt, result: resultAfter(state, provisional) },
  };
}

function fail(command: FailDeployment, state: DeploymentState): DeploymentFailed {
  const { deploymentId } = running(state);
  const { stage, errorCode, errorMessage, withResult } = command.data;
  const data = {
    deploymentId,
    stage,
    errorCode,
    errorMessage,
    completedAt: command.metadata.timestamp,
  };
  const event: DeploymentFailed = { type: 'DeploymentFailed', data };
  return withResult ? { ...event, data: { ...data, result: resultAfter(state, event) } } : event;
}

/** The deployment decider: `StartDeployment` from the bus, the rest from the process manager. */
export const deploymentDecider: Decider<DeploymentCommand, DeploymentEvent, DeploymentState> = {
  initialState: () => NO_DEPLOYMENT,
  evolve: evolveDeployment,
  decide: (command, state) => {
    switch (command.type) {
      case 'StartDeployment':
        return [start(command, state)];
      case 'ClaimRunner': {
        const { deploymentId } = running(state);
        return [{ type: 'RunnerClaimed', data: { deploymentId, ...command.data } }];
      }
      case 'RecordProgress': {
        const { deploymentId } = running(state);
        return [{ type: 'StageProgressed', data: { deploymentId, ...command.data } }];
      }
      case 'CompleteStage': {
        const { deploymentId } = running(state);
        return [{ type: 'StageCompleted', data: { deploymentId, ...command.data } }];
      }
      case 'CompleteDeployment':
        return [finish(command, state)];
      case 'FailDeployment':
        return [fail(command, state)];
      default: {
        const unknown: never = command;
        throw new Error(`unknown deployment command ${JSON.stringify(unknown)}`);
      }
    }
  },
};

/** `deployment.stage` / `deployment.done` / `deployment.failed` to the user who started it. */
export function deploymentNotifications(
  event: DeploymentEvent,
  _context: EventContext,
  state: DeploymentState,
): readonly NotificationRecord[] {
  const userId = state.spec?.userId;
  if (userId === undefined) return [];
  const to = (method: string, params: Fields): NotificationRecord[] => [
    {
      method,
      params,
      target: 'user',
      targetIds: [userId],
      topic: `deployment.${event.data.deploymentId}`,
    },
  ];
  switch (event.type) {
    case 'StageProgressed': {
      const { deploymentId, message, details } = event.data;
      return to('deployment.stage', { deploymentId, type: 'stage', message, details });
    }
    case 'DeploymentCompleted': {
      const { deploymentId, result } = event.data;
      const message = 'Deployment completed successfully';
      return to('deployment.done', { deploymentId, message, result });
    }
    case 'DeploymentFailed': {
      const { deploymentId, stage, errorCode, errorMessage } = event.data;
      const message = `Deployment failed: ${errorMessage}`;
      return to('deployment.failed', { deploymentId, stage, errorCode, message });
    }
    case 'DeploymentStarted':
    case 'RunnerClaimed':
    case 'StageCompleted':
      return [];
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}
