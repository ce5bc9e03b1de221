/** `StartDeployment` (`deploy.start`, `POST /api/v1/deploy`, seed 003). */
import { z } from 'zod';
import type { StreamPage } from '../../events/event-store.js';
import { type CommandPorts, defineCommand } from '../command-definition.js';
import {
  connectionStreamId,
  decodeConnectionEvent,
  githubBranchSchema,
  githubOwnerSchema,
  githubRepoSchema,
} from '../connection/connection.js';
import { IDENTIFIER } from '../identifier.js';
import {
  type ConnectionFact,
  decodeDeploymentEvent,
  deploymentDecider,
  deploymentIdOf,
  deploymentNotifications,
  deploymentStreamId,
} from './deployment.js';

/** The queue a deployment's job waits in (`{sc}:jobs:deploy`), its runners' group and job type. */
export const DEPLOY_QUEUE = 'deploy';
export const RUNNER_GROUP = 'runners';
export const RUN_DEPLOYMENT = 'RunDeployment';

/** The body of `POST /api/v1/deploy` (seed 003). */
export const startDeploymentData = z.object({
  githubConnectionId: z.string().regex(IDENTIFIER),
  awsConnectionId: z.string().regex(IDENTIFIER),
  owner: githubOwnerSchema,
  repo: githubRepoSchema,
  branch: githubBranchSchema,
});

/** Who made a connection, from its stream's first event (none: no such connection). */
async function factOf(
  ports: CommandPorts,
  connectionId: string,
): Promise<ConnectionFact | undefined> {
  const page: StreamPage = await ports.readStream(connectionStreamId(connectionId), { limit: 1 });
  const first = page.events[0];
  const event = first && decodeConnectionEvent(first);
  return event ? { type: event.type, userId: event.data.userId } : undefined;
}

/**
 * `StartDeployment`: checks the caller's connections, then appends `DeploymentStarted` and queues
 * its job in one atomic step (refused with "Deployment queue is full" past DEPLOY_MAX_QUEUED).
 */
export const startDeployment = defineCommand({
  type: 'StartDeployment',
  method: {
    name: 'deploy.start',
    summary: 'Starts a deployment of seed 003; answers with its id as soon as it is queued.',
  },
  route: {
    path: '/api/v1/deploy',
    message: 'Deployment started.',
    data: ({ deploymentId }) => ({
      deploymentId,
      message: `Deployment started. Listen to /api/v1/deploy/${deploymentId}/events`,
    }),
  },
  params: startDeploymentData.extend({
    commandId: z.uuid().optional().describe('idempotency key: a retry starts one deployment'),
  }),
  data: startDeploymentData.extend({ deploymentId: z.string() }),
  answers: ['not-found', 'overloaded'],
  toData: ({ commandId: _, ...fields }, edge) => ({
    deploymentId: deploymentIdOf(edge.actor.userId, edge.commandId),
    ...fields,
  }),
  streamId: (c) => deploymentStreamId(c.data.deploymentId),
  prepare: async (c, ports) => ({
    github: await factOf(ports, c.data.githubConnectionId),
    aws: await factOf(ports, c.data.awsConnectionId),
  }),
  decider: () => deploymentDecider,
  decode: decodeDeploymentEvent,
  command: ({ data, metadata }, facts) => ({
    type: 'StartDeployment' as const,
    data: {
      ...data,
      ...(facts?.github ? { github: facts.github } : {}),
      ...(facts?.aws ? { aws: facts.aws } : {}),
    },
    metadata,
  }),
  notify: deploymentNotifications,
  job: (c, settings) => ({
    queue: DEPLOY_QUEUE,
    group: RUNNER_GROUP,
    id: c.data.deploymentId,
    type: RUN_DEPLOYMENT,
    data: { deploymentId: c.data.deploymentId },
    maxWaiting: settings.deployMaxQueued,
    label: 'Deployment',
  }),
  result: z.object({ deploymentId: z.string() }),
  resultOf: (c) => ({ deploymentId: c.data.deploymentId }),
  answer: z.object({ deploymentId: z.string() }),
  answerOf: (result) => result,
});
