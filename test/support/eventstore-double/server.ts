/**
 * Start-up of the EventStoreDB double: a `@grpc/grpc-js` server on 127.0.0.1, insecure, serving
 * `ServerFeatures` and `Streams` from the client's own service definitions. Services the double
 * does not register (gossip, users, operations, persistent subscriptions, projections…) are
 * answered UNIMPLEMENTED by grpc-js itself; Streams.Delete and Streams.Tombstone explicitly.
 * The memory outlives `stop()`, so `stop()` then `start()` looks like a node that went away and
 * came back on the same port with its data.
 */
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Server,
  ServerCredentials,
} from '@grpc/grpc-js';
import { appendHandler, batchAppendHandler } from './append.js';
import { unimplemented } from './errors.js';
import { type StreamsPb, serverFeaturesGrpc, serverFeaturesPb, streamsGrpc } from './protocol.js';
import { serveRead } from './read.js';
import { EventStoreMemory } from './store.js';
import { SubscriptionRegistry, serveSubscription } from './subscriptions.js';

/** Options of the double; every one has a default. */
export interface EventStoreDoubleOptions {
  /**
   * Whether ServerFeatures lists BatchAppend. The client appends through BatchAppend when it is
   * listed, else through Append. Default true (what a 21.10+ server does).
   */
  readonly batchAppend?: boolean;
  /** Version reported by ServerFeatures. Default `23.10.0`. */
  readonly serverVersion?: string;
  /** Clock for `created` and BatchAppend deadlines. Default the system clock. */
  readonly now?: () => Date;
  /** Events a catching-up subscription reads per page. Default 32. */
  readonly catchUpPageSize?: number;
  /**
   * Awaited between two catch-up pages; tests use it to write while a subscription catches up.
   * Default: yield to the event loop once.
   */
  readonly betweenCatchUpPages?: () => Promise<void> | void;
}

/** A running double. */
export interface EventStoreDouble {
  /** `esdb://127.0.0.1:<port>?tls=false`, for `EventStoreDBClient.connectionString`. */
  readonly connectionString: string;
  /** The port, stable across `stop()`/`start()`. */
  readonly port: number;
  /** The in-memory streams and `$all`, for assertions. */
  readonly memory: EventStoreMemory;
  /** How many calls each served method received since start, e.g. `{ batchAppend: 2 }`. */
  callCounts(): Readonly<Record<ServedMethod, number>>;
  /** How many subscriptions are open on the server now. */
  openSubscriptions(): number;
  /** Whether the server is listening. */
  isRunning(): boolean;
  /** Stops listening and cuts every open call (clients see UNAVAILABLE); data is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. Idempotent. */
  start(): Promise<void>;
}

/** The methods the double serves (and counts). */
export type ServedMethod = 'getSupportedMethods' | 'read' | 'subscribe' | 'append' | 'batchAppend';

const STREAMS_SERVICE = 'event_store.client.streams.Streams';

/** Starts a double on a free port of 127.0.0.1. */
export async function startEventStoreDouble(
  options: EventStoreDoubleOptions = {},
): Promise<EventStoreDouble> {
  const now = options.now ?? (() => new Date());
  const memory = new EventStoreMemory(now);
  const subscriptions = new SubscriptionRegistry();
  const features = supportedMethods(
    options.serverVersion ?? '23.10.0',
    options.batchAppend ?? true,
  );

  const paging = {
    pageSize: options.catchUpPageSize ?? 32,
    betweenPages:
      options.betweenCatchUpPages ?? (() => new Promise<void>((resolve) => setImmediate(resolve))),
  };
  const counts: Record<ServedMethod, number> = {
    getSupportedMethods: 0,
    read: 0,
    subscribe: 0,
    append: 0,
    batchAppend: 0,
  };
  const append = appendHandler(memory);
  const batchAppend = batchAppendHandler(memory, now);

  const build = (): Server => {
    const server = new Server();
    server.addService(serverFeaturesGrpc.ServerFeaturesService, {
      getSupportedMethods: ((_call, callback) => {
        counts.getSupportedMethods += 1;
        callback(null, features);
      }) satisfies handleUnaryCall<unknown, unknown>,
    });
    const read: handleServerStreamingCall<StreamsPb.ReadReq, StreamsPb.ReadResp> = (call) => {
      const readOptions = call.request.getOptions();
      if (!readOptions) {
        call.end();
        return;
      }
      if (readOptions.hasSubscription()) {
        counts.subscribe += 1;
        serveSubscription(call, readOptions, memory, subscriptions, paging);
        return;
      }
      counts.read += 1;
      void serveRead(call, readOptions, memory);
    };
    server.addService(streamsGrpc.StreamsService, {
      read,
      append: ((call, callback) => {
        counts.append += 1;
        append(call, callback);
      }) satisfies typeof append,
      batchAppend: ((call) => {
        counts.batchAppend += 1;
        batchAppend(call);
      }) satisfies typeof batchAppend,
      delete: refuse('Streams.Delete'),
      tombstone: refuse('Streams.Tombstone'),
    });
    return server;
  };

  let server: Server | undefined;
  let port = 0;
  const bind = async (): Promise<void> => {
    const next = build();
    port = await new Promise<number>((resolve, reject) => {
      next.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    server = next;
  };
  await bind();

  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    memory,
    callCounts: () => ({ ...counts }),
    openSubscriptions: () => subscriptions.size,
    isRunning: () => server !== undefined,
    async stop() {
      const running = server;
      server = undefined;
      running?.forceShutdown();
    },
    async start() {
      if (server) return;
      await bind();
    },
  };
}

/** A unary handler answering UNIMPLEMENTED. */
function refuse(method: string): handleUnaryCall<unknown, unknown> {
  return (_call, callback) => callback(unimplemented(method));
}

/**
 * The ServerFeatures answer. The client keys support by `/<service>/<method>` lower-cased
 * (dist/Client/ServerFeatures.js) and uses BatchAppend only when
 * `/event_store.client.streams.streams/batchappend` is present.
 */
function supportedMethods(version: string, batchAppend: boolean) {
  const methods: Array<[service: string, method: string, features: string[]]> = [
    ['event_store.client.server_features.ServerFeatures', 'getsupportedmethods', []],
    [STREAMS_SERVICE, 'read', ['position', 'events']],
    [STREAMS_SERVICE, 'append', []],
    ...(batchAppend ? [[STREAMS_SERVICE, 'batchappend', []] as [string, string, string[]]] : []),
  ];
  const answer = new serverFeaturesPb.SupportedMethods();
  answer.setEventStoreServerVersion(version);
  answer.setMethodsList(
    methods.map(([service, method, methodFeatures]) => {
      const supported = new serverFeaturesPb.SupportedMethod();
      supported.setServiceName(service);
      supported.setMethodName(method);
      supported.setFeaturesList(methodFeatures);
      return supported;
    }),
  );
  return answer;
}
