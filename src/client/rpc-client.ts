/**
 * The typed JSON-RPC client of SPEC.md §9 (`call`), for browsers and Node 18+ (global fetch).
 * Errors come back as `RpcCallError` with the server's code, message and data.
 */

/** A JSON-RPC error answered by the server. */
export class RpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    /** The HTTP status it came with (200 for most JSON-RPC errors). */
    readonly status = 200,
  ) {
    super(message);
    this.name = 'RpcCallError';
  }
}

/** Options of a client. */
export interface RpcClientOptions {
  /** Base URL of an instance, e.g. `http://localhost:8080`. */
  readonly url: string;
  /** Extra headers on every call (e.g. `Authorization`, or `X-User-Id` with AUTH_MODE=none). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The fetch to use (default: the global one). */
  readonly fetch?: typeof fetch;
}

type RpcResponse =
  | { readonly result: unknown }
  | {
      readonly error: { readonly code: number; readonly message: string; readonly data?: unknown };
    };

/** A JSON-RPC 2.0 response, checked (the body is the server's, read back from the wire). */
function responseOf(body: unknown): RpcResponse | undefined {
  if (typeof body !== 'object' || body === null || !('jsonrpc' in body)) return undefined;
  if ('result' in body) return { result: body.result };
  if (!('error' in body) || typeof body.error !== 'object' || body.error === null) return undefined;
  const { error } = body;
  const code = 'code' in error ? error.code : undefined;
  const message = 'message' in error ? error.message : undefined;
  if (typeof code !== 'number' || typeof message !== 'string') return undefined;
  return { error: { code, message, ...('data' in error ? { data: error.data } : {}) } };
}

/** Calls JSON-RPC methods on one instance. */
export class RpcClient {
  private nextId = 1;
  constructor(private readonly options: RpcClientOptions) {}

  /** Calls `method` with named `params`; resolves with the result or rejects with `RpcCallError`. */
  async call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    signal?: AbortSignal,
  ): Promise<T> {
    const doFetch = this.options.fetch ?? fetch;
    const response = await doFetch(`${this.options.url.replace(/\/$/, '')}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.options.headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    let body: RpcResponse | undefined;
    try {
      body = responseOf(JSON.parse(text));
    } catch {
      body = undefined;
    }
    if (!body) {
      throw new RpcCallError(
        -32603,
        `HTTP ${response.status} without a JSON-RPC body: ${text.slice(0, 200)}`,
        undefined,
        response.status,
      );
    }
    if ('error' in body) {
      const { code, message, data } = body.error;
      throw new RpcCallError(code, message, data, response.status);
    }
    // the caller names the answer's type (rpc.discover documents it); the client does not check it
    return body.result as T;
  }
}
