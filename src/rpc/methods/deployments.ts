import { v4 as uuidv4 } from 'uuid';
import { z } from 'zod';
import { deploymentDoc, deploymentResult } from '../../deployments/queries.js';
import { startDeploymentData } from '../../deployments/start-handler.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { envelopeOf, type RpcServices, sendAndWait } from './services.js';

const deploymentId = z.string().regex(/^dep_[0-9a-f]{10}$/, 'a deploymentId from deploy.start');
const position = z
  .string()
  .regex(/^\d{1,20}(-\d{1,20})?$/, 'must be a globalPosition this server returned');

/** `deploy.start`, `deploy.get` and `deploy.result` (SPEC.md §4, §6). */
export function deploymentMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'deploy.start',
      summary: 'Starts a deployment of seed 003; answers with its id as soon as it is queued.',
      params: startDeploymentData.extend({
        commandId: z.uuid().optional().describe('idempotency key: a retry starts one deployment'),
      }),
      result: z.object({ deploymentId: z.string() }),
      errors: [-32004, -32029, -32030],
      handler: async ({ commandId, ...data }, ctx) => {
        const outcome = await sendAndWait(
          services,
          envelopeOf(ctx, commandId ?? uuidv4(), 'StartDeployment', data),
        );
        return outcome.result as { deploymentId: string };
      },
    }),
    defineMethod({
      name: 'deploy.get',
      summary: "A deployment's status, stage and timestamps (its starter or admin).",
      params: z.object({ deploymentId, minPosition: position.optional() }),
      result: z.record(z.string(), z.unknown()),
      errors: [-32003, -32004, -32032],
      handler: async (p, ctx) =>
        deploymentDoc(services.readModels, ctx.user, p.deploymentId, p.minPosition),
    }),
    defineMethod({
      name: 'deploy.result',
      summary: 'The result object of a finished deployment (SPEC.md §6); -32011 while it runs.',
      params: z.object({ deploymentId }),
      result: z.record(z.string(), z.unknown()),
      errors: [-32003, -32004, -32011],
      handler: async (p, ctx) => deploymentResult(services.readModels, ctx.user, p.deploymentId),
    }),
  ];
}
