/**
 * JSON-RPC calls to the first instance that answers: a call that cannot reach an instance (a
 * network error, not a JSON-RPC error) is sent to the next of the page's instances, and later
 * calls stay there. The page gives its commands a `commandId`, so a call that was handled before
 * the connection broke is answered with its recorded result, never applied twice.
 */
import { RpcClient } from '../../src/client/index.js';

export class FailoverRpc {
  private readonly clients: RpcClient[];
  private current = 0;

  constructor(urls: readonly string[], headers: Readonly<Record<string, string>>) {
    this.clients = urls.map((url) => new RpcClient({ url, headers }));
  }

  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.clients.length; tried++) {
      const at = this.current;
      try {
        return await this.clients[at]!.call<T>(method, params);
      } catch (error) {
        if (!(error instanceof TypeError)) throw error; // an answer: the instance is up
        lastError = error;
        if (this.current === at) this.current = (at + 1) % this.clients.length;
      }
    }
    throw lastError;
  }
}

/** `params` with a fresh `commandId`: the idempotency key that makes a resend safe. */
export function command(params: Record<string, unknown>): Record<string, unknown> {
  return { ...params, commandId: crypto.randomUUID() };
}
