/**
 * Seed 003's deployment reads (SPEC.md §6): `GET /api/v1/deploy/{id}/result` over the deployments
 * read model, and the deployment's own event stream `GET /api/v1/deploy/{id}/events`.
 * (`POST /api/v1/deploy` is the start command's route: `rest-commands.ts`.)
 */
import { type RequestHandler, Router } from 'express';
import { deploymentResult } from '../deployments/queries.js';
import {
  DEPLOYMENT_ID,
  type DeploymentEvent,
  decodeDeploymentEvent,
  deploymentStreamId,
} from '../domain/deployment/deployment.js';
import { NotFoundError } from '../errors.js';
import type { Json, RecordedEvent } from '../events/envelope.js';
import type { Logger } from '../log.js';
import type { RpcServices } from '../rpc/methods/services.js';
import type { FeedFormat, StreamFeed } from '../sse/stream-feed.js';
import { callerOf } from './auth.js';
import { correlationIdOf } from './rest-commands.js';
import { sendRestError, sendStreamError } from './rest-errors.js';

export interface DeployRouterOptions {
  readonly services: RpcServices;
  readonly feed: StreamFeed;
  readonly authenticate: RequestHandler;
  /** SSE_RETRY_MS: a failed event stream (not a refusal) tells the client to retry after about this. */
  readonly retryMs: number;
  readonly logger: Logger;
}

function frame(id: number, event: string, data: Json): string {
  return `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** True for the event that ends a deployment's stream. */
function isEnd(event: DeploymentEvent | undefined): boolean {
  return event?.type === 'DeploymentCompleted' || event?.type === 'DeploymentFailed';
}

/** Seed 003's frame of a deployment event: `stage`, then `done` or `error`; others send nothing. */
function deploymentFrame(version: number, event: DeploymentEvent): string | undefined {
  switch (event.type) {
    case 'StageProgressed':
      return frame(version, 'stage', {
        type: 'stage',
        message: event.data.message,
        details: event.data.details,
      });
    case 'DeploymentCompleted':
      return frame(version, 'done', { message: 'Deployment completed successfully' });
    case 'DeploymentFailed':
      return frame(version, 'error', {
        message: `Deployment failed: ${event.data.errorMessage}`,
        errorCode: event.data.errorCode,
        stage: event.data.stage,
      });
    case 'DeploymentStarted':
    case 'RunnerClaimed':
    case 'StageCompleted':
      return undefined;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
}

/** Seed 003's frames of a deployment's stream; the stream closes 5 s after its end. */
export const DEPLOYMENT_FRAMES: FeedFormat = {
  frame(e: RecordedEvent) {
    const event = decodeDeploymentEvent(e);
    return event && deploymentFrame(e.version, event);
  },
  ends: (e) => isEnd(decodeDeploymentEvent(e)),
  closeAfterMs: 5000,
};

export function deployRouter(options: DeployRouterOptions): Router {
  const { services, feed, authenticate, logger } = options;
  const router = Router();
  router.get('/api/v1/deploy/:id/result', authenticate, async (req, res) => {
    const correlationId = correlationIdOf(res);
    const id = String(req.params.id);
    try {
      const result = await deploymentResult(services.readModels, callerOf(res)!, id).catch(
        (error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
          throw new NotFoundError('deploymentResult', id, `Deployment result not found: ${id}`);
        },
      );
      res.json({ code: 200, message: 'Deployment result retrieved.', data: result });
    } catch (error) {
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
      const caller = callerOf(res)!;
      // another user's deployment is answered as a missing one: its existence is not theirs to learn
      if (!started || (started.metadata.userId !== caller.userId && !caller.isAdmin)) {
        throw new NotFoundError('deployment', id, `Deployment not found: ${id}`);
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
      sendStreamError(res, error, logger, options.retryMs, correlationIdOf(res));
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
  return last !== undefined && isEnd(decodeDeploymentEvent(last)) && last.version <= lastEventId;
}
