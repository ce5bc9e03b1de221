import { z } from 'zod';
import type { CommandEnvelope, CommandHandler } from '../commands/command-bus.js';
import { deploymentIdOf, deploymentStreamId } from '../domain/deployment.js';
import { IDENTIFIER } from '../domain/identifier.js';
import { validationErrorFromZod } from '../error-codes.js';
import { NotFoundError } from '../errors.js';
import { NO_STREAM } from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import { DEPLOY_QUEUE, RUN_DEPLOYMENT, RUNNER_GROUP } from './job-queue.js';

/** `StartDeployment` as it travels on the bus. */
export const startDeploymentData = z.object({
  githubConnectionId: z.string().regex(IDENTIFIER),
  awsConnectionId: z.string().regex(IDENTIFIER),
  owner: z.string().min(1).max(100),
  repo: z.string().min(1).max(100),
  branch: z.string().min(1).max(255),
});

/** A connection exists when its stream does (its first event recorded who made it). */
async function assertConnection(
  store: EventStore,
  id: string,
  kind: 'GitHub' | 'AWS',
  userId: string,
): Promise<void> {
  const { events } = await store.readStream(`connection-${id}`, { limit: 1 });
  const first = events[0];
  const type = kind === 'GitHub' ? 'GitHubConnected' : 'AwsConnected';
  if (!first || first.type !== type || first.metadata.userId !== userId) {
    const error = new NotFoundError(kind === 'GitHub' ? 'githubConnection' : 'awsConnection', id);
    error.message = `${kind} connection not found`;
    throw error;
  }
}

/**
 * `StartDeployment`: checks the caller's connections exist, then appends `DeploymentStarted` and
 * queues its job in one atomic step (refused with "Deployment queue is full" past DEPLOY_MAX_QUEUED).
 */
export function startDeploymentHandler(store: EventStore, maxQueued: number): CommandHandler {
  return async (envelope: CommandEnvelope) => {
    const parsed = startDeploymentData.safeParse(envelope.data);
    if (!parsed.success)
      throw validationErrorFromZod(`StartDeployment ${envelope.id} is malformed`, parsed.error);
    const userId = envelope.metadata.userId;
    await assertConnection(store, parsed.data.githubConnectionId, 'GitHub', userId);
    await assertConnection(store, parsed.data.awsConnectionId, 'AWS', userId);
    const deploymentId = deploymentIdOf(envelope.id);
    await store.append(
      deploymentStreamId(deploymentId),
      [
        {
          type: 'DeploymentStarted',
          data: { deploymentId, ...parsed.data, userId, startedAt: envelope.metadata.timestamp },
        },
      ],
      {
        expectedVersion: NO_STREAM,
        idempotencyKey: envelope.id,
        result: { deploymentId },
        metadata: {
          commandId: envelope.id,
          causationId: envelope.id,
          correlationId: envelope.metadata.correlationId,
          userId,
          timestamp: envelope.metadata.timestamp,
        },
        enqueue: {
          queue: DEPLOY_QUEUE,
          group: RUNNER_GROUP,
          id: deploymentId,
          type: RUN_DEPLOYMENT,
          data: { deploymentId },
          maxWaiting: maxQueued,
          label: 'Deployment',
        },
        ...(envelope.metadata.replyTo ? { replyChannel: envelope.metadata.replyTo } : {}),
      },
    );
  };
}
