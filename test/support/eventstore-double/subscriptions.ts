/**
 * Catch-up subscriptions (`Streams.Read` with subscription options) to `$all` and, as a
 * convenience, to one stream. Follows docs/clients/grpc/subscriptions.md (EventStore/documentation):
 * the server first confirms, then sends the stored events after the start point — "The positions
 * provided to the subscriptions are exclusive. You will only receive the next event after the
 * subscribed position." — then, once caught up, pushes new events as they are written; "there is
 * no difference between catching up and live on the client side". The client 6.2.1 knows the
 * `caught_up` message (`ReadResp.CaughtUp` in generated/streams_pb.js, emitted as `caughtUp` by
 * dist/streams/utils/Subscription.js), so the double sends it at the switch to live.
 *
 * One cursor into the append-only log drives both phases, so the seam has neither a gap nor a
 * duplicate: every event is handed out by the same loop, in log order, exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { checkpointInterval, compileFilter, type EventFilter } from './filter.js';
import { eventResponse, streamNameOf } from './messages.js';
import { type StreamsPb, streamsPb } from './protocol.js';
import { write } from './read.js';
import type { EventStoreMemory, StoredEvent } from './store.js';

type ReadCall = ServerWritableStream<StreamsPb.ReadReq, StreamsPb.ReadResp>;

/** The subscriptions currently open, for tests that check an unsubscribe reached the server. */
export class SubscriptionRegistry {
  readonly #open = new Set<string>();

  /** How many subscriptions are open now. */
  get size(): number {
    return this.#open.size;
  }

  add(id: string): void {
    this.#open.add(id);
  }

  delete(id: string): void {
    this.#open.delete(id);
  }
}

/** How a subscription reads history: in pages, with a pause between them. */
export interface CatchUpPaging {
  /** Events per page. */
  readonly pageSize: number;
  /** Awaited between two pages (writes made meanwhile must still arrive exactly once). */
  readonly betweenPages: () => Promise<void> | void;
}

/** Serves one subscription until the client cancels it or the server stops. */
export function serveSubscription(
  call: ReadCall,
  options: StreamsPb.ReadReq.Options,
  store: EventStoreMemory,
  registry: SubscriptionRegistry,
  paging: CatchUpPaging,
): void {
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  const start = startOf(options, store);
  const filterOptions = options.hasFilter() ? options.getFilter() : undefined;
  const filter: EventFilter = filterOptions ? compileFilter(filterOptions) : () => true;
  const interval = filterOptions ? checkpointInterval(filterOptions) : undefined;

  const id = randomUUID();
  let cursor = start.cursor;
  let scanned = 0;
  let inPage = 0;
  let lastCheckpoint: bigint | undefined;
  let pumping = false;
  let live = false;
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    stopListening();
    registry.delete(id);
  };
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);

  const pump = async () => {
    if (pumping || closed) return;
    pumping = true;
    try {
      for (let source = start.source(); cursor < source.length; source = start.source()) {
        const event = source[cursor++]!;
        scanned += 1;
        if (filter(event)) await write(call, eventResponse(event, structured));
        if (interval !== undefined && scanned % interval === 0) {
          lastCheckpoint = event.position;
          await write(call, checkpoint(event.position));
        }
        if (closed) return;
        // Like the server's paged reads of history: other work (appends) runs between pages.
        if (!live && ++inPage >= paging.pageSize) {
          inPage = 0;
          await paging.betweenPages();
          if (closed) return;
        }
      }
      if (!live) {
        live = true;
        // The server checkpoints when catch-up reaches the end of $all, "to make sure that at
        // least one checkpoint is issued within the checkpoint interval", and never sends the
        // same checkpoint twice (EventStore server, Enumerators.AllSubscriptionFiltered, CatchUp).
        const head = start.source()[cursor - 1]?.position;
        if (interval !== undefined && !start.fromEnd && head !== undefined) {
          if (lastCheckpoint === undefined || head > lastCheckpoint) {
            lastCheckpoint = head;
            await write(call, checkpoint(head));
          }
        }
        const caughtUp = new streamsPb.ReadResp();
        caughtUp.setCaughtUp(new streamsPb.ReadResp.CaughtUp());
        await write(call, caughtUp);
      }
    } finally {
      pumping = false;
    }
    // An event written while the last write drained is picked up here.
    if (!closed && cursor < start.source().length) void pump();
  };

  // Listening starts before the first write, so nothing appended from now on is missed.
  const stopListening = store.onAppend(() => void pump());
  registry.add(id);

  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(id);
  const confirmed = new streamsPb.ReadResp();
  confirmed.setConfirmation(confirmation);
  void write(call, confirmed).then(pump);
}

/** The log a subscription reads and the index of the first event it sends. */
interface Start {
  readonly source: () => readonly StoredEvent[];
  readonly cursor: number;
  /** Subscribed from END: no catch-up, so no checkpoint on going live. */
  readonly fromEnd: boolean;
}

function startOf(options: StreamsPb.ReadReq.Options, store: EventStoreMemory): Start {
  const all = options.getAll();
  if (all) {
    const source = () => store.all();
    if (all.hasStart()) return { source, cursor: 0, fromEnd: false };
    if (all.hasEnd()) return { source, cursor: source().length, fromEnd: true };
    const position = BigInt(all.getPosition()?.getCommitPosition() ?? '0');
    const after = source().findIndex((event) => event.position > position);
    return { source, cursor: after === -1 ? source().length : after, fromEnd: false };
  }
  const streamOptions = options.getStream();
  const name = streamNameOf(streamOptions?.getStreamIdentifier());
  const source = () => store.stream(name) ?? [];
  if (!streamOptions || streamOptions.hasStart()) return { source, cursor: 0, fromEnd: false };
  if (streamOptions.hasEnd()) return { source, cursor: source().length, fromEnd: true };
  return { source, cursor: Number(BigInt(streamOptions.getRevision())) + 1, fromEnd: false };
}

/**
 * A checkpoint at the position of the last event scanned: resuming from it (exclusive) continues
 * after that event. The server's catch-up checkpoints are page-granular (the position its read
 * stopped at); the double's fall on the event that completed the interval.
 */
function checkpoint(position: bigint): StreamsPb.ReadResp {
  const message = new streamsPb.ReadResp.Checkpoint();
  message.setCommitPosition(position.toString());
  message.setPreparePosition(position.toString());
  const response = new streamsPb.ReadResp();
  response.setCheckpoint(message);
  return response;
}
