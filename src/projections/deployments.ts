/**
 * The `deployments` projection: one document per deployment with its status, stage, timestamps
 * and, once finished, the result object of SPEC.md §6; only the newest DEPLOY_RESULTS_KEEP
 * finished deployments are kept.
 */
import {
  DEPLOYMENT_EVENT_TYPES,
  decodeDeploymentEvent,
  deploymentStreamId,
} from '../domain/deployment/deployment.js';
import type { RecordedEvent } from '../events/envelope.js';
import type { Projection, ReadModelWrite } from './projection.js';

/** The event types the projection folds. */
export const DEPLOYMENT_EVENTS = DEPLOYMENT_EVENT_TYPES;

function writeOf(recorded: RecordedEvent, keep: number): ReadModelWrite | undefined {
  const event = decodeDeploymentEvent(recorded);
  if (!event) return undefined;
  const id = event.data.deploymentId;
  const at = recorded.metadata.timestamp;
  const base = { id, incr: { eventCount: 1 } };
  switch (event.type) {
    case 'DeploymentStarted': {
      const { userId, owner, repo, branch, startedAt } = event.data;
      return {
        ...base,
        set: {
          deploymentId: id,
          userId,
          owner,
          repo,
          branch,
          status: 'QUEUED',
          stage: 0,
          startedAt,
          updatedAt: at,
          completedAt: null,
        },
      };
    }
    case 'RunnerClaimed':
      return { ...base, set: { status: 'RUNNING', attempt: event.data.attempt, updatedAt: at } };
    case 'StageProgressed':
      return {
        ...base,
        set: { stage: event.data.stage, message: event.data.message, updatedAt: at },
      };
    case 'StageCompleted':
      return { ...base, set: { updatedAt: at } };
    case 'DeploymentCompleted':
    case 'DeploymentFailed': {
      const { completedAt } = event.data;
      return {
        id, // the result's eventCount counts this event already
        set: {
          ...(event.data.result ?? {}),
          status: event.type === 'DeploymentCompleted' ? 'COMPLETED' : 'FAILED',
          ...(event.type === 'DeploymentFailed' ? { stage: event.data.stage } : {}),
          completedAt,
          updatedAt: at,
        },
        keepNewest: { index: 'finished', score: Date.parse(completedAt), keep },
      };
    }
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** The projection, keeping `keep` finished deployments (DEPLOY_RESULTS_KEEP). */
export function deploymentsProjection(keep: number): Projection {
  return {
    name: 'deployments',
    eventTypes: DEPLOYMENT_EVENTS,
    streamOf: deploymentStreamId,
    project: (event) => {
      const write = writeOf(event, keep);
      return write ? [write] : [];
    },
  };
}
