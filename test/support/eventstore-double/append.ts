/**
 * `Streams.Append` (client streaming: options, then one proposed message per request) and
 * `Streams.BatchAppend` (bidirectional: requests grouped by correlation id, the first carrying
 * options and a deadline, the last `is_final`; one response per correlation id). The client picks
 * BatchAppend when ServerFeatures lists `/event_store.client.streams.Streams/BatchAppend`
 * (`dist/streams/appendToStream/index.js`), keeps one BatchAppend call open per connection with no
 * call deadline and matches responses to appends by correlation id
 * (`dist/streams/appendToStream/batchAppend.js`).
 */
import type {
  handleBidiStreamingCall,
  handleClientStreamingCall,
  ServerDuplexStream,
} from '@grpc/grpc-js';
import { timeoutStatus, wrongExpectedVersionStatus } from './errors.js';
import { proposedEvent, streamIdentifier, streamNameOf, uuidString } from './messages.js';
import { type SharedPb, type StreamsPb, sharedPb, streamsPb } from './protocol.js';
import type { AppendOutcome, EventStoreMemory, ExpectedRevision, ProposedEvent } from './store.js';

type AppendReq = StreamsPb.AppendReq;
type AppendResp = StreamsPb.AppendResp;
type BatchAppendReq = StreamsPb.BatchAppendReq;
type BatchAppendResp = StreamsPb.BatchAppendResp;

/** The `Append` handler over `store`. */
export function appendHandler(
  store: EventStoreMemory,
): handleClientStreamingCall<AppendReq, AppendResp> {
  return (call, callback) => {
    let options: StreamsPb.AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    call.on('data', (request: AppendReq) => {
      if (request.hasOptions()) options = request.getOptions();
      if (request.hasProposedMessage()) events.push(proposedEvent(request.getProposedMessage()!));
    });
    call.on('error', () => {});
    call.on('end', () => {
      if (!options) {
        callback(null, new streamsPb.AppendResp());
        return;
      }
      const streamName = streamNameOf(options.getStreamIdentifier());
      const expected = expectedFromAppend(options);
      callback(null, appendResponse(store.append(streamName, expected, events)));
    });
  };
}

function expectedFromAppend(options: StreamsPb.AppendReq.Options): ExpectedRevision {
  if (options.hasRevision()) return { kind: 'exact', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

/**
 * `AppendResp`: `success` with the current revision and position, or `wrong_expected_version`
 * with current and expected — the client turns the latter into `WrongExpectedVersionError`
 * (`dist/streams/appendToStream/append.js`).
 */
function appendResponse(outcome: AppendOutcome): AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'success') {
    const success = new streamsPb.AppendResp.Success();
    if (outcome.currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(outcome.currentRevision.toString());
    if (outcome.position === undefined) success.setNoPosition(new sharedPb.Empty());
    else {
      const position = new streamsPb.AppendResp.Position();
      position.setCommitPosition(outcome.position.toString());
      position.setPreparePosition(outcome.position.toString());
      success.setPosition(position);
    }
    response.setSuccess(success);
    return response;
  }
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.currentRevision === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentRevision(outcome.currentRevision.toString());
  const expected = outcome.expected;
  switch (expected.kind) {
    case 'any':
      wrong.setExpectedAny(new sharedPb.Empty());
      break;
    case 'no_stream':
      wrong.setExpectedNoStream(new sharedPb.Empty());
      break;
    case 'stream_exists':
      wrong.setExpectedStreamExists(new sharedPb.Empty());
      break;
    case 'exact':
      wrong.setExpectedRevision(expected.revision.toString());
      break;
    default: {
      const unreachable: never = expected;
      return unreachable;
    }
  }
  response.setWrongExpectedVersion(wrong);
  return response;
}

/** A BatchAppend being assembled from its requests. */
interface PendingBatch {
  readonly correlationId: SharedPb.UUID | undefined;
  readonly options: StreamsPb.BatchAppendReq.Options;
  readonly events: ProposedEvent[];
}

/** The `BatchAppend` handler over `store`. */
export function batchAppendHandler(
  store: EventStoreMemory,
  now: () => Date,
): handleBidiStreamingCall<BatchAppendReq, BatchAppendResp> {
  return (call) => {
    const pending = new Map<string, PendingBatch>();
    call.on('data', (request: BatchAppendReq) => {
      const key = uuidString(request.getCorrelationId());
      let batch = pending.get(key);
      if (!batch) {
        const options = request.getOptions();
        // Options come with the first request of a correlation id; without them there is no
        // stream to write to, which the real server treats as a bad request and ends the call.
        if (!options) return;
        batch = { correlationId: request.getCorrelationId(), options, events: [] };
        pending.set(key, batch);
      }
      for (const message of request.getProposedMessagesList()) {
        batch.events.push(proposedEvent(message));
      }
      if (!request.getIsFinal()) return;
      pending.delete(key);
      respond(call, batch, store, now);
    });
    call.on('error', () => {});
    call.on('end', () => call.end());
  };
}

function respond(
  call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>,
  batch: PendingBatch,
  store: EventStoreMemory,
  now: () => Date,
): void {
  const { options } = batch;
  const streamName = streamNameOf(options.getStreamIdentifier());
  const expected = expectedFromBatch(options);
  const response = new streamsPb.BatchAppendResp();
  response.setCorrelationId(batch.correlationId);
  response.setStreamIdentifier(streamIdentifier(streamName));
  switch (expected.kind) {
    case 'any':
      response.setAny(new sharedPb.Empty());
      break;
    case 'no_stream':
      response.setNoStream(new sharedPb.Empty());
      break;
    case 'stream_exists':
      response.setStreamExists(new sharedPb.Empty());
      break;
    case 'exact':
      response.setStreamPosition(expected.revision.toString());
      break;
    default: {
      const unreachable: never = expected;
      throw new Error(`unknown expected revision ${String(unreachable)}`);
    }
  }
  // The per-append deadline travels in the options (the call itself has none): an append that
  // completes after it is refused with `Timeout`, which the client maps to DeadlineExceededError.
  const deadline = options.getDeadline()?.toDate();
  if (deadline && deadline.getTime() < now().getTime()) {
    response.setError(timeoutStatus());
    call.write(response);
    return;
  }
  const outcome = store.append(streamName, expected, batch.events);
  if (outcome.kind === 'wrong_expected_version') {
    response.setError(wrongExpectedVersionStatus(streamName, outcome.currentRevision, expected));
  } else {
    const success = new streamsPb.BatchAppendResp.Success();
    if (outcome.currentRevision === undefined) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(outcome.currentRevision.toString());
    if (outcome.position === undefined) success.setNoPosition(new sharedPb.Empty());
    else {
      const position = new sharedPb.AllStreamPosition();
      position.setCommitPosition(outcome.position.toString());
      position.setPreparePosition(outcome.position.toString());
      success.setPosition(position);
    }
    response.setSuccess(success);
  }
  call.write(response);
}

function expectedFromBatch(options: StreamsPb.BatchAppendReq.Options): ExpectedRevision {
  if (options.hasStreamPosition()) {
    return { kind: 'exact', revision: BigInt(options.getStreamPosition()) };
  }
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}
