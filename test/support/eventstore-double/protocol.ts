/**
 * The EventStoreDB gRPC protocol as the client package itself ships it: service definitions and
 * message classes from `@eventstore/db-client/generated` (CommonJS, loaded with `createRequire`),
 * typed by the `.d.ts` files next to them. The double serves these, so it cannot drift from the
 * messages the pinned client (6.2.1) sends and expects.
 */
import { createRequire } from 'node:module';
import type * as CodePb from '@eventstore/db-client/generated/code_pb.js';
import type * as ServerFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import type * as ServerFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type * as SharedPb from '@eventstore/db-client/generated/shared_pb.js';
import type * as StatusPb from '@eventstore/db-client/generated/status_pb.js';
import type * as StreamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import type * as StreamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type * as AnyPb from 'google-protobuf/google/protobuf/any_pb.js';

const require = createRequire(import.meta.url);
const generated = (name: string): unknown => require(`@eventstore/db-client/generated/${name}.js`);

/** Message classes of `streams.proto` (ReadReq/ReadResp, AppendReq/AppendResp, BatchAppend…). */
export const streamsPb = generated('streams_pb') as typeof StreamsPb;
/** The `event_store.client.streams.Streams` service definition. */
export const streamsGrpc = generated('streams_grpc_pb') as typeof StreamsGrpc;
/** Shared messages: UUID, StreamIdentifier, Empty, WrongExpectedVersion, error details. */
export const sharedPb = generated('shared_pb') as typeof SharedPb;
/** `google.rpc.Status` as BatchAppend carries it. */
export const statusPb = generated('status_pb') as typeof StatusPb;
/** `google.rpc.Code` values. */
export const codePb = generated('code_pb') as typeof CodePb;
/** `SupportedMethods` / `SupportedMethod`. */
export const serverFeaturesPb = generated('serverfeatures_pb') as typeof ServerFeaturesPb;
/** The `event_store.client.server_features.ServerFeatures` service definition. */
export const serverFeaturesGrpc = generated('serverfeatures_grpc_pb') as typeof ServerFeaturesGrpc;
/** `google.protobuf.Any`, the same module instance the generated classes use. */
export const anyPb = require('google-protobuf/google/protobuf/any_pb.js') as typeof AnyPb;

export type { ServerFeaturesGrpc, ServerFeaturesPb, SharedPb, StatusPb, StreamsGrpc, StreamsPb };
