/**
 * The subscription endpoint and one stream's events (SPEC.md §5): `POST /api/v1/sse/subscribe`
 * and `GET /streams/{streamId}/events`. `GET /events` is served by plain http (plain-events.ts).
 * Refusals are plain HTTP (400/401/403/404) with the REST error body (`rest-errors.ts`), sent
 * before any event-stream header.
 */
import { type Request, type RequestHandler, Router } from 'express';
import { ForbiddenError, ValidationError } from '../errors.js';
import { STREAM_ID_PATTERN } from '../events/envelope.js';
import type { Logger } from '../log.js';
import { mayRead } from '../rpc/methods/events.js';
import type { Realtime } from '../sse/realtime.js';
import type { StreamFeed } from '../sse/stream-feed.js';
import { callerOf } from './auth.js';
import { readRestBody } from './rest-body.js';
import { sendRestError, sendStreamError } from './rest-errors.js';

export interface SseRouteParts {
  readonly realtime: Realtime;
  readonly feed: StreamFeed;
  /** Authentication for every route here (anonymous callers refused). */
  readonly authenticate: RequestHandler;
  /** SSE_RETRY_MS: a failure other than a refusal tells the client to retry after about this. */
  readonly retryMs: number;
  readonly logger: Logger;
}

/** The largest subscription change accepted (a kept subscription holds at most 8 KiB). */
const SUBSCRIBE_MAX_BODY_BYTES = 65_536;

function query(req: Request): URLSearchParams {
  return new URL(req.originalUrl, 'http://x').searchParams;
}

export function sseRoutes(parts: SseRouteParts): Router {
  const { realtime, feed, authenticate, retryMs, logger } = parts;
  const router = Router();
  router.post('/api/v1/sse/subscribe', authenticate, async (req, res) => {
    try {
      const body = await readRestBody(req, SUBSCRIBE_MAX_BODY_BYTES);
      if (!('value' in body)) {
        res.status(body.status).json(body);
        return;
      }
      res.json(await realtime.subscribe(callerOf(res)!, body.value));
    } catch (error) {
      if (!res.destroyed) sendRestError(res, error, logger);
    }
  });
  router.get('/streams/:streamId/events', authenticate, async (req, res) => {
    try {
      const caller = callerOf(res)!;
      const streamId = String(req.params.streamId);
      if (!STREAM_ID_PATTERN.test(streamId)) {
        throw new ValidationError(`invalid stream id ${JSON.stringify(streamId)}`, [
          { path: 'streamId', message: 'not a stream id' },
        ]);
      }
      if (!mayRead(caller, streamId)) {
        throw new ForbiddenError(
          `only admins may read ${streamId}; you may read trainer-${caller.userId}`,
        );
      }
      const resumed = Number(req.get('Last-Event-ID'));
      const from =
        Number.isSafeInteger(resumed) && resumed > 0
          ? resumed + 1
          : Number(query(req).get('fromVersion') ?? 1);
      if (!Number.isSafeInteger(from) || from < 1) {
        throw new ValidationError('fromVersion must be an integer ≥ 1', [
          { path: 'fromVersion', message: 'integer ≥ 1' },
        ]);
      }
      await feed.serve(res, caller.userId, streamId, from);
    } catch (error) {
      sendStreamError(res, error, logger, retryMs);
    }
  });
  return router;
}
