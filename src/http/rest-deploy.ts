/**
 * Seed 003's deployment endpoints (SPEC.md §6), thin adapters over `StartDeployment` and the
 * deployments read model: `POST /api/v1/deploy`, `GET /api/v1/deploy/{id}/result` and the
 * deployment's own event stream `GET /api/v1/deploy/{id}/events`.
 */
import { randomUUID } from 'node:crypto';
import express, { type RequestHandler, type Response, Router } from 'express';
import { deploymentResult } from '../deployments/queries.js';
import { startDeploymentData } from '../deployments/start-handler.js';
import { deploymentStreamId } from '../domain/deployment.js';
import { validationErrorFromZod } from '../error-codes.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Json, RecordedEvent } from '../events/envelope.js';
import type { Logger } from '../log.js';
import { envelopeOf, type RpcServices, sendAndWait } from '../rpc/methods/services.js';
import type { FeedFormat, StreamFeed } from '../sse/stream-feed.js';
import { callerOf } from './auth.js';
import { restErrorBody, sendRestError } from './rest-errors.js';

export interface DeployRouterOptions {
  readonly services: RpcServices;
  readonly feed: StreamFeed;
  readonly authenticate: RequestHandler;
  readonly logger: Logger;
}

const DEPLOYMENT_ID = /^dep_[0-9a-f]{10}$/;
const END_EVENTS = new Set(['DeploymentCompleted', 'DeploymentFailed']);

function frame(id: number, event: string, data: Json): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Seed 003's frames: `stage` for progress, then `done` or `error`; other events send nothing. */
export const DEPLOYMENT_FRAMES: FeedFormat = {
  frame(e: RecordedEvent) {
    const d = e.data as Record<string, Json>;
    if (e.type === 'StageProgressed') {
      return frame(e.version, 'stage', {
        type: 'stage',
        message: d.message ?? '',
        details: d.details ?? {},
      });
    }
    if (e.type === 'DeploymentCompleted')
      return frame(e.version, 'done', { message: 'Deployment completed successfully' });
    if (e.type === 'DeploymentFailed') {
      return frame(e.version, 'error', {
        message: `Deployment failed: ${String(d.errorMessage)}`,
        errorCode: d.errorCode ?? 'UNEXPECTED_ERROR',
        stage: d.stage ?? null,
      });
    }
    return undefined;
  },
  ends: (e) => END_EVENTS.has(e.type),
  closeAfterMs: 5000,
};

function correlationIdOf(res: Response): string {
  const id = (res.locals.correlationId as string | undefined) ?? randomUUID();
  res.locals.correlationId = id;
  return id;
}

export function deployRouter(options: DeployRouterOptions): Router {
  const { services, feed, authenticate, logger } = options;
  const router = Router();
  router.post('/api/v1/deploy', authenticate, express.json({ limit: '16kb' }), async (req, res) => {
    const correlationId = correlationIdOf(res);
    try {
      const parsed = startDeploymentData.safeParse(req.body);
      if (!parsed.success) throw validationErrorFromZod('invalid request body', parsed.error);
      const ctx = { user: callerOf(res)!, correlationId, logger };
      const outcome = await sendAndWait(
        services,
        envelopeOf(ctx, randomUUID(), 'StartDeployment', parsed.data),
      );
      const { deploymentId } = outcome.result as { deploymentId: string };
      res.json({
        code: 200,
        message: 'Deployment started.',
        data: {
          deploymentId,
          message: `Deployment started. Listen to /api/v1/deploy/${deploymentId}/events`,
        },
      });
    } catch (error) {
      // seed 003: a missing connection is a 400 "Deployment Error"
      const rpcCode = (error as { answer?: { code?: number } }).answer?.code;
      if (error instanceof NotFoundError || rpcCode === -32004) {
        const message = error instanceof Error ? error.message : 'connection not found';
        res.status(400).json({
          ...restErrorBody(400, 'CONNECTION_NOT_FOUND', message),
          error: 'Deployment Error',
        });
        return;
      }
      sendRestError(res, error, logger, correlationId);
    }
  });
  router.get('/api/v1/deploy/:id/result', authenticate, async (req, res) => {
    const correlationId = correlationIdOf(res);
    const id = String(req.params.id);
    try {
      const result = await deploymentResult(services.readModels, callerOf(res)!, id);
      res.json({ code: 200, message: 'Deployment result retrieved.', data: result });
    } catch (error) {
      if (error instanceof NotFoundError) {
        res.status(400).json({
          ...restErrorBody(400, 'NOT_FOUND', `Deployment result not found: ${id}`),
          error: 'Deployment Error',
        });
        return;
      }
      sendRestError(res, error, logger, correlationId);
    }
  });
  router.get('/api/v1/deploy/:id/events', authenticate, async (req, res) => {
    const id = String(req.params.id);
    try {
      const stream = DEPLOYMENT_ID.test(id)
        ? await services.store.readStream(deploymentStreamId(id), { limit: 1 })
        : undefined;
      const started = stream?.events[0];
      if (!started) throw new NotFoundError('deployment', id);
      const caller = callerOf(res)!;
      if (started.metadata.userId !== caller.userId && !caller.isAdmin) {
        throw new ForbiddenError(`deployment ${id} was started by another user`);
      }
      const lastEventId = Number(req.get('Last-Event-ID') ?? Number.NaN);
      if (Number.isSafeInteger(lastEventId) && (await seenTheEnd(services, id, lastEventId))) {
        res.status(204).end(); // the browser stops reconnecting
        return;
      }
      await feed.serve(
        res,
        caller.userId,
        deploymentStreamId(id),
        Number.isSafeInteger(lastEventId) ? lastEventId + 1 : 1,
        DEPLOYMENT_FRAMES,
      );
    } catch (error) {
      if (res.headersSent) {
        res.end();
        return;
      }
      if (error instanceof NotFoundError) {
        res.status(404).json(restErrorBody(404, 'NOT_FOUND', `Deployment not found: ${id}`));
        return;
      }
      sendRestError(res, error, logger, correlationIdOf(res));
    }
  });
  return router;
}

/** True when the deployment has ended at or before `lastEventId` (its final event was sent). */
async function seenTheEnd(
  services: RpcServices,
  id: string,
  lastEventId: number,
): Promise<boolean> {
  const { events } = await services.store.readStream(deploymentStreamId(id), {
    direction: 'backward',
    limit: 1,
  });
  const last = events[0];
  return last !== undefined && END_EVENTS.has(last.type) && last.version <= lastEventId;
}
