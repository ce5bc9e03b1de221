/**
 * Deployments of seed 003 as events (SPEC.md §6, §7): six stages, each a list of progress steps,
 * run by a process manager whose every append carries the expected version and a step key. This
 * module is pure: ids, the stage catalogue with the seed's messages in English, error codes,
 * the fold of a deployment's stream, and the simulated result.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../events/envelope.js';

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

/** The deployment id of a `StartDeployment` command: derived from its id, so a retry gets the same. */
export function deploymentIdOf(commandId: string): string {
  return `dep_${createHash('sha256').update(commandId).digest('hex').slice(0, 10)}`;
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
  readonly fields: Readonly<Record<string, Json>>;
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

/** A recorded deployment event as the fold reads it. */
export interface DeploymentEventLike {
  readonly type: string;
  readonly data: Json;
  readonly metadata: { readonly timestamp: string };
}

/** Folds one event of a deployment's stream. */
export function evolveDeployment(
  state: DeploymentState,
  event: DeploymentEventLike,
): DeploymentState {
  const data = event.data as Record<string, Json>;
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'DeploymentStarted':
      return { ...next, spec: data as unknown as DeploymentSpec };
    case 'RunnerClaimed':
      return { ...next, status: 'RUNNING', attempt: Number(data.attempt) };
    case 'StageProgressed': {
      const stage = Number(data.stage);
      const started = state.stageStartedAt[stage] ?? event.metadata.timestamp;
      return { ...next, stageStartedAt: { ...state.stageStartedAt, [stage]: started } };
    }
    case 'StageCompleted':
      return {
        ...next,
        stagesDone: Number(data.stage),
        fields: { ...state.fields, ...((data.fields as Record<string, Json>) ?? {}) },
      };
    case 'DeploymentCompleted':
      return {
        ...next,
        status: 'COMPLETED',
        completedAt: String(data.completedAt),
        fields: { ...state.fields, ...(data.result as Record<string, Json>) },
      };
    case 'DeploymentFailed':
      return {
        ...next,
        status: 'FAILED',
        completedAt: String(data.completedAt),
        failure: {
          stage: Number(data.stage),
          errorCode: String(data.errorCode),
          message: String(data.errorMessage),
        },
      };
    default:
      return next;
  }
}

/** The result object of SPEC.md §6 for a finished deployment. */
export function resultOf(state: DeploymentState): Record<string, Json> {
  const spec = state.spec!;
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
