/**
 * `subscribe` of SPEC.md §9: the caller's notifications over `GET /events`, for browsers (the
 * global EventSource) and Node (pass the `eventsource` package's class). It resumes after a lost
 * connection from the last id it saw — on the next of `urls`, so a client of an instance that shuts
 * down moves to another — drops anything it has already seen, and reports `stream.reset`.
 *
 * Ids are opaque to it but for one question: whether a frame's id is covered by the last one seen
 * (the same epochs, every partition's position at or before it; `sse-id.ts`).
 *
 * EventSource only dispatches named events to listeners for those names, so the methods to listen
 * for are listed (`methods`); the server's own are included by default.
 */

import { sseIdCovered } from '../sse/sse-id.js';

/** The EventSource surface used here (browser and the `eventsource` package agree on it). */
export interface EventSourceLike {
  addEventListener(
    type: string,
    listener: (event: { data: string; lastEventId: string }) => void,
  ): void;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}

/** An EventSource constructor; the second argument is the `eventsource` package's (headers via fetch). */
export type EventSourceClass = new (
  url: string,
  init?: { fetch?: (input: string | URL, init?: RequestInit) => Promise<Response> },
) => EventSourceLike;

/** What `session.opened` says. */
export interface SessionInfo {
  readonly sessionId: string;
  readonly serverId: string;
  readonly resumedFrom: string | null;
}

export interface SubscribeOptions {
  /** Instances to connect to, tried in turn after a lost connection. */
  readonly urls: readonly string[];
  readonly topics?: readonly string[];
  readonly filters?: Readonly<Record<string, readonly string[]>>;
  /** Keeps subscription changes across reconnects (SPEC.md §5). */
  readonly sessionId?: string;
  /** Extra query parameters (e.g. `userId` with AUTH_MODE=none, `access_token`). */
  readonly query?: Readonly<Record<string, string>>;
  /** Headers (Node's `eventsource` only; browsers send cookies instead). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Notification methods to listen for besides the server's own (e.g. `message.chat`). */
  readonly methods?: readonly string[];
  /** Where to resume from (a previous subscription's `lastEventId`). */
  readonly lastEventId?: string;
  /** Wait before reconnecting (default 1000 ms, jittered up to 2×). */
  readonly retryMs?: number;
  readonly EventSource?: EventSourceClass;
  onNotification(method: string, params: unknown, id: string): void;
  onReset?(reason: string): void;
  onOpen?(info: SessionInfo): void;
  /** The connection was lost; a reconnect (maybe to the next of `urls`) follows. */
  onDisconnect?(): void;
}

/** A running subscription. */
export interface ClientSubscription {
  /** The id of the last notification (or heartbeat) seen: where a reconnect resumes. */
  readonly lastEventId: string | undefined;
  /** How many times it connected. */
  readonly connections: number;
  close(): void;
}

/** The server's notification methods. */
export const SERVER_METHODS = [
  'position.update',
  'deployment.stage',
  'deployment.done',
  'deployment.failed',
] as const;

/** The `params` of a frame's JSON-RPC notification (undefined when it has none). */
function paramsOf(data: string): unknown {
  const frame: unknown = JSON.parse(data);
  return typeof frame === 'object' && frame !== null && 'params' in frame
    ? frame.params
    : undefined;
}

/** `session.opened`'s params, checked. */
function sessionInfoOf(params: unknown): SessionInfo | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  if (!('sessionId' in params) || typeof params.sessionId !== 'string') return undefined;
  if (!('serverId' in params) || typeof params.serverId !== 'string') return undefined;
  const resumedFrom =
    'resumedFrom' in params && typeof params.resumedFrom === 'string' ? params.resumedFrom : null;
  return { sessionId: params.sessionId, serverId: params.serverId, resumedFrom };
}

/** `stream.reset`'s reason (`retention` or `epoch`). */
function resetReasonOf(params: unknown): string {
  if (typeof params !== 'object' || params === null || !('reason' in params)) return 'unknown';
  return String(params.reason);
}

/** Sets the `topics` and `filter.<field>` parameters `GET /events` reads a subscription from. */
export function setSubscriptionQuery(
  q: URLSearchParams,
  options: Pick<SubscribeOptions, 'topics' | 'filters'>,
): void {
  if (options.topics?.length) q.set('topics', options.topics.join(','));
  for (const [field, values] of Object.entries(options.filters ?? {}))
    q.set(`filter.${field}`, values.join(','));
}

export function subscribe(options: SubscribeOptions): ClientSubscription {
  const Source =
    options.EventSource ?? (globalThis as { EventSource?: EventSourceClass }).EventSource;
  if (!Source)
    throw new Error('no EventSource here: pass the eventsource package as options.EventSource');
  let last = options.lastEventId;
  let source: EventSourceLike | undefined;
  let connections = 0;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const urlFor = (base: string) => {
    const url = new URL('/events', base);
    const q = url.searchParams;
    setSubscriptionQuery(q, options);
    if (options.sessionId) q.set('sessionId', options.sessionId);
    for (const [k, v] of Object.entries(options.query ?? {})) q.set(k, v);
    if (last) q.set('lastEventId', last);
    return url.toString();
  };

  const connect = () => {
    if (closed) return;
    const base = options.urls[connections % options.urls.length]!;
    connections += 1;
    const headers = options.headers;
    const es = new Source(
      urlFor(base),
      headers
        ? {
            fetch: (input, init) =>
              fetch(input, {
                ...init,
                headers: { ...(init?.headers as Record<string, string>), ...headers },
              }),
          }
        : undefined,
    );
    source = es;
    const onFrame = (method: string) => (event: { data: string; lastEventId: string }) => {
      const id = event.lastEventId;
      if (method === 'session.opened') {
        const opened = sessionInfoOf(paramsOf(event.data));
        if (opened) options.onOpen?.(opened);
        return;
      }
      // a duplicate after a resume: an id the last one covers (ids are opaque but for this)
      if (method !== 'stream.reset' && id && sseIdCovered(id, last)) return;
      if (id) last = id;
      if (method === 'ping') return;
      const params = paramsOf(event.data);
      if (method === 'stream.reset') options.onReset?.(resetReasonOf(params));
      else options.onNotification(method, params, id);
    };
    const names = new Set([
      'session.opened',
      'stream.reset',
      'ping',
      ...SERVER_METHODS,
      ...(options.methods ?? []),
    ]);
    for (const name of names) es.addEventListener(name, onFrame(name));
    es.onerror = () => {
      // the connection ended: resume from the last id on the next instance
      es.close();
      if (closed || source !== es) return;
      options.onDisconnect?.();
      const wait = (options.retryMs ?? 1000) * (1 + Math.random());
      timer = setTimeout(connect, wait);
    };
  };
  connect();
  return {
    get lastEventId() {
      return last;
    },
    get connections() {
      return connections;
    },
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
    },
  };
}
