import { z } from 'zod';
import { deploymentDoc, deploymentResult } from '../../deployments/queries.js';
import { DEPLOYMENT_ID } from '../../domain/deployment/deployment.js';
import { defineMethod, type RpcMethod } from '../method.js';
import { minPositionParam } from './min-position.js';
import type { RpcServices } from './services.js';

const deploymentId = z.string().regex(DEPLOYMENT_ID, 'a deploymentId from deploy.start');
/** `deploy.get` and `deploy.result` (SPEC.md §4, §6); `deploy.start` is a defined command. */
export function deploymentMethods(services: RpcServices): RpcMethod[] {
  return [
    defineMethod({
      name: 'deploy.get',
      summary: "A deployment's status, stage and timestamps (its starter or admin).",
      params: z.object({ deploymentId, minPosition: minPositionParam.optional() }),
      result: z.record(z.string(), z.unknown()),
      errors: [-32004, -32032],
      handler: async (p, ctx) =>
        deploymentDoc(services.readModels, ctx.user, p.deploymentId, p.minPosition),
    }),
    defineMethod({
      name: 'deploy.result',
      summary: 'The result object of a finished deployment (SPEC.md §6); -32011 while it runs.',
      params: z.object({ deploymentId }),
      result: z.record(z.string(), z.unknown()),
      errors: [-32004, -32011],
      handler: async (p, ctx) => deploymentResult(services.readModels, ctx.user, p.deploymentId),
    }),
  ];
}
