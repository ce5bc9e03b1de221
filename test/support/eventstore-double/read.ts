/**
 * `Streams.Read` without subscription options: one page of a stream or of `$all`, forwards or
 * backwards, at most `count` events. Reads with subscription options go to `subscriptions.ts`.
 *
 * Bounds: a stream read starts at the given revision, inclusive, in both directions
 * (docs/clients/grpc/reading-events.md, EventStore/documentation). A `$all` read forwards starts
 * at the given position inclusive — the client's own test reads one event from the position of
 * the third and gets the third (EventStore-Client-NodeJS packages/test/src/streams/readAll.test.ts,
 * "from position"); backwards it returns only the events before it, because the server takes
 * backward positions "as post-positions (pointer after the end of record)" against forward
 * "pre-positions (pointer at the beginning of the record)" (EventStore server, IAllReader).
 * `START`/`END` are the ends of the log or stream.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { eventResponse, streamIdentifier, streamNameOf } from './messages.js';
import { type StreamsPb, streamsPb } from './protocol.js';
import type { EventStoreMemory, StoredEvent } from './store.js';

type ReadCall = ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;

/** `ReadDirection.Backwards` in `ReadReq.Options`. */
export const BACKWARDS = 1;

/** Answers a stream or `$all` read, then ends the call. */
export async function serveRead(
  call: ReadCall,
  options: StreamsPb.ReadReq.Options,
  store: EventStoreMemory,
): Promise<void> {
  const count = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
  const backwards = options.getReadDirection() === BACKWARDS;
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  const allOptions = options.getAll();
  let events: readonly StoredEvent[];
  if (allOptions) {
    events = readAll(store.all(), allOptions, backwards);
  } else {
    const streamOptions = options.getStream();
    const name = streamNameOf(streamOptions?.getStreamIdentifier());
    const stream = store.stream(name);
    if (!stream || !streamOptions) {
      // The client turns this message into StreamNotFoundError (dist/streams/utils/ReadStream.js).
      const notFound = new streamsPb.ReadResp.StreamNotFound();
      notFound.setStreamIdentifier(streamIdentifier(name));
      const response = new streamsPb.ReadResp();
      response.setStreamNotFound(notFound);
      await write(call, response);
      call.end();
      return;
    }
    events = readStream(stream, streamOptions, backwards);
  }
  const limited = events.slice(0, Number(count < BigInt(events.length) ? count : events.length));
  for (const event of limited) {
    if (call.cancelled) return;
    await write(call, eventResponse(event, structured));
  }
  call.end();
}

function readStream(
  stream: readonly StoredEvent[],
  options: StreamsPb.ReadReq.Options.StreamOptions,
  backwards: boolean,
): readonly StoredEvent[] {
  const last = stream.length - 1;
  let from: number;
  if (options.hasStart()) from = 0;
  else if (options.hasEnd()) from = backwards ? last : stream.length;
  else from = Number(BigInt(options.getRevision()));
  if (!backwards) return stream.slice(from);
  return stream.slice(0, Math.min(from, last) + 1).reverse();
}

function readAll(
  all: readonly StoredEvent[],
  options: StreamsPb.ReadReq.Options.AllOptions,
  backwards: boolean,
): readonly StoredEvent[] {
  if (options.hasStart()) return backwards ? [] : all;
  if (options.hasEnd()) return backwards ? [...all].reverse() : [];
  const position = BigInt(options.getPosition()?.getCommitPosition() ?? '0');
  if (!backwards) return all.filter((event) => event.position >= position);
  return all.filter((event) => event.position < position).reverse();
}

/** Writes one response, waiting for the transport to drain when its buffer is full. */
export async function write(call: ReadCall, response: StreamsPb.ReadResp): Promise<void> {
  if (call.write(response)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('close', done);
      call.off('cancelled', done);
      resolve();
    };
    call.once('drain', done);
    call.once('close', done);
    call.once('cancelled', done);
  });
}
