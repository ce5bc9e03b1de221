import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type express from 'express';

/** An express app listening on a free loopback port. */
export interface Running {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  close(): Promise<void>;
}

/** Starts `app` on a free port; `close` drops open connections too. */
export async function listen(app: express.Express): Promise<Running> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
