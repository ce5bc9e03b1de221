/**
 * The `deployments` projection: one document per deployment with its status, stage, timestamps
 * and, once finished, the result object of SPEC.md §6; only the newest DEPLOY_RESULTS_KEEP
 * finished deployments are kept.
 */
import type { Json, RecordedEvent } from '../events/envelope.js';
import type { Projection, ReadModelWrite } from './projection.js';

export const DEPLOYMENT_EVENTS = [
  'DeploymentStarted',
  'RunnerClaimed',
  'StageProgressed',
  'StageCompleted',
  'DeploymentCompleted',
  'DeploymentFailed',
] as const;

function writeOf(event: RecordedEvent, keep: number): ReadModelWrite {
  const data = event.data as Record<string, Json>;
  const id = String(data.deploymentId);
  const at = event.metadata.timestamp;
  const base = { id, incr: { eventCount: 1 } };
  switch (event.type) {
    case 'DeploymentStarted':
      return {
        ...base,
        set: {
          deploymentId: id,
          userId: String(data.userId),
          owner: data.owner ?? null,
          repo: data.repo ?? null,
          branch: data.branch ?? null,
          status: 'QUEUED',
          stage: 0,
          startedAt: data.startedAt ?? at,
          updatedAt: at,
          completedAt: null,
        },
      };
    case 'RunnerClaimed':
      return { ...base, set: { status: 'RUNNING', attempt: data.attempt ?? 1, updatedAt: at } };
    case 'StageProgressed':
      return {
        ...base,
        set: { stage: data.stage ?? 0, message: data.message ?? '', updatedAt: at },
      };
    case 'DeploymentCompleted':
    case 'DeploymentFailed': {
      const result = (data.result ?? {}) as Record<string, Json>;
      const completedAt = String(data.completedAt ?? at);
      return {
        id, // the result's eventCount counts this event already
        set: {
          ...result,
          status: event.type === 'DeploymentCompleted' ? 'COMPLETED' : 'FAILED',
          ...(data.stage !== undefined ? { stage: data.stage } : {}),
          completedAt,
          updatedAt: at,
        },
        keepNewest: { index: 'finished', score: Date.parse(completedAt), keep },
      };
    }
    default:
      return { ...base, set: { updatedAt: at } };
  }
}

/** The projection, keeping `keep` finished deployments (DEPLOY_RESULTS_KEEP). */
export function deploymentsProjection(keep: number): Projection {
  return {
    name: 'deployments',
    eventTypes: DEPLOYMENT_EVENTS,
    project: (event) => [writeOf(event, keep)],
  };
}
