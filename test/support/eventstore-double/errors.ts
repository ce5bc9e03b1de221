/**
 * Errors as the double puts them on the wire, each in the shape the client's own decoding
 * (`dist/utils/CommandError.js`, `dist/streams/appendToStream/unpackError.js`) turns into its
 * typed errors.
 */
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { anyPb, codePb, sharedPb, statusPb } from './protocol.js';
import type { ExpectedRevision } from './store.js';

/** A gRPC error with a status code and message, as a handler passes it to its callback. */
export function grpcError(code: status, details: string): Partial<ServiceError> {
  return { code, details, metadata: new Metadata() };
}

/** The answer to every method the double does not serve (Delete, Tombstone, users, gossip…). */
export function unimplemented(method: string): Partial<ServiceError> {
  return grpcError(status.UNIMPLEMENTED, `${method} is not implemented by the EventStoreDB double`);
}

/**
 * A BatchAppend failure: `google.rpc.Status` whose `details` is an `Any` holding
 * `event_store.client.WrongExpectedVersion`. The client unpacks it by type name into
 * `WrongExpectedVersionError` (expectedVersion / actualVersion, actual `'no_stream'` when
 * `current_no_stream` is set).
 */
export function wrongExpectedVersionStatus(
  streamName: string,
  current: bigint | undefined,
  expected: ExpectedRevision,
): InstanceType<typeof statusPb.Status> {
  const details = new sharedPb.WrongExpectedVersion();
  if (current === undefined) details.setCurrentNoStream(new sharedPb.Empty());
  else details.setCurrentStreamRevision(current.toString());
  switch (expected.kind) {
    case 'any':
      details.setExpectedAny(new sharedPb.Empty());
      break;
    case 'no_stream':
      details.setExpectedNoStream(new sharedPb.Empty());
      break;
    case 'stream_exists':
      details.setExpectedStreamExists(new sharedPb.Empty());
      break;
    case 'exact':
      details.setExpectedStreamPosition(expected.revision.toString());
      break;
    default: {
      const unreachable: never = expected;
      return unreachable;
    }
  }
  return packedStatus(
    codePb.Code.FAILED_PRECONDITION,
    `Append failed due to WrongExpectedVersion. Stream: ${streamName}, Expected version: ${describe(expected)}, Actual version: ${current ?? 'no stream'}`,
    details.serializeBinary(),
    'event_store.client.WrongExpectedVersion',
  );
}

/** A BatchAppend whose deadline passed before it was complete: `Timeout` details. */
export function timeoutStatus(): InstanceType<typeof statusPb.Status> {
  return packedStatus(
    codePb.Code.DEADLINE_EXCEEDED,
    'Timeout',
    new sharedPb.Timeout().serializeBinary(),
    'event_store.client.Timeout',
  );
}

function packedStatus(
  code: number,
  message: string,
  serialized: Uint8Array,
  typeName: string,
): InstanceType<typeof statusPb.Status> {
  const any = new anyPb.Any();
  any.pack(serialized, typeName);
  const result = new statusPb.Status();
  result.setCode(code);
  result.setMessage(message);
  result.setDetails(any);
  return result;
}

function describe(expected: ExpectedRevision): string {
  return expected.kind === 'exact' ? expected.revision.toString() : expected.kind;
}
