/**
 * Conversions between protocol messages and the store's records: proposed messages in, recorded
 * events out, in the encodings the client reads (`dist/utils/convertGrpcEvent.js`).
 */
import { sharedPb, streamsPb } from './protocol.js';
import type { ProposedEvent, StoredEvent } from './store.js';

type Uuid = InstanceType<typeof sharedPb.UUID>;
type StreamIdentifier = InstanceType<typeof sharedPb.StreamIdentifier>;
type Proposed =
  | InstanceType<typeof streamsPb.AppendReq.ProposedMessage>
  | InstanceType<typeof streamsPb.BatchAppendReq.ProposedMessage>;

/** The stream name a `StreamIdentifier` carries (bytes on the wire). */
export function streamNameOf(identifier: StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}

/** A `StreamIdentifier` for `name`. */
export function streamIdentifier(name: string): StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(name, 'utf8'));
  return identifier;
}

/** The canonical string form of a UUID message, string or structured. */
export function uuidString(uuid: Uuid | undefined): string {
  if (!uuid) return '';
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const hex =
      BigInt.asUintN(64, BigInt(structured.getMostSignificantBits()))
        .toString(16)
        .padStart(16, '0') +
      BigInt.asUintN(64, BigInt(structured.getLeastSignificantBits()))
        .toString(16)
        .padStart(16, '0');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return uuid.getString();
}

/** A UUID message in the form the reader asked for (`uuid_option`: string or structured). */
export function uuidMessage(id: string, structured: boolean): Uuid {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const hex = id.replaceAll('-', '');
  const value = new sharedPb.UUID.Structured();
  value.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(0, 16)}`)).toString());
  value.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${hex.slice(16)}`)).toString());
  uuid.setStructured(value);
  return uuid;
}

/** A proposed message (Append or BatchAppend) as the store takes it. */
export function proposedEvent(message: Proposed): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidString(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    customMetadata: message.getCustomMetadata_asU8(),
  };
}

/** A stored event as `ReadResp.ReadEvent` (no link: the double writes no link events). */
export function readEvent(
  event: StoredEvent,
  structuredUuids: boolean,
): InstanceType<typeof streamsPb.ReadResp.ReadEvent> {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(event.id, structuredUuids));
  recorded.setStreamIdentifier(streamIdentifier(event.streamName));
  recorded.setStreamRevision(event.revision.toString());
  recorded.setPreparePosition(event.position.toString());
  recorded.setCommitPosition(event.position.toString());
  const metadata = recorded.getMetadataMap();
  metadata.set('type', event.type);
  metadata.set('content-type', event.contentType);
  metadata.set('created', event.createdTicks.toString());
  recorded.setCustomMetadata(event.customMetadata);
  recorded.setData(event.data);
  const read = new streamsPb.ReadResp.ReadEvent();
  read.setEvent(recorded);
  read.setCommitPosition(event.position.toString());
  return read;
}

/** A `ReadResp` carrying one event. */
export function eventResponse(
  event: StoredEvent,
  structuredUuids: boolean,
): InstanceType<typeof streamsPb.ReadResp> {
  const response = new streamsPb.ReadResp();
  response.setEvent(readEvent(event, structuredUuids));
  return response;
}
