import express, { type Express, type Router } from 'express';

/** What the HTTP surface is assembled from; each part is an express router. */
export interface AppParts {
  readonly health: Router;
  /** `POST /rpc` (reads its own body: no body parser may run before it). */
  readonly rpc: Router;
}

/** Assembles the express app. Compression is never applied (event streams must not be buffered). */
export function createApp(parts: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(parts.health);
  app.use(parts.rpc);
  return app;
}
