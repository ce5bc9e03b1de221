/**
 * A `$all` subscription of the client as the port's `Subscription`: events handed to the handler
 * in batches of up to `batchSize`, one batch at a time, in `$all` order; the client's stream is
 * paused while the handler is behind (so a slow follower does not buffer without bound). A
 * subscription that fails (EventStoreDB gone) or ends rejects `done`; followers resubscribe from
 * their checkpoint.
 */
import type { AllStreamResolvedEvent, AllStreamSubscription } from '@eventstore/db-client';
import type { RecordedEvent } from '../envelope.js';
import type { Subscription } from '../event-store.js';
import { isForeignEvent, recordedOf } from './esdb-events.js';

export interface FollowAllOptions {
  /** Where it starts (the `after` it was given): its position until a batch is handled. */
  readonly after: string;
  readonly batchSize: number;
  /** EVENTSTORE_STREAM_PREFIX: only its streams are the store's. */
  readonly streamPrefix: string;
  /** Events not to hand over (at or before the start position). */
  skip(event: RecordedEvent): boolean;
}

export function followAll(
  open: () => AllStreamSubscription,
  options: FollowAllOptions,
  handler: (events: readonly RecordedEvent[]) => Promise<void> | void,
  onClosed: () => void,
): Subscription {
  const stream = open();
  const queue: RecordedEvent[] = [];
  let position = options.after;
  let closing = false;
  let failure: Error | undefined;
  let wake: () => void = () => {};
  const wakeUp = () => wake();
  stream.on('data', (resolved: AllStreamResolvedEvent) => {
    if (isForeignEvent(resolved, options.streamPrefix)) return;
    const event = recordedOf(resolved, options.streamPrefix);
    if (options.skip(event)) return;
    queue.push(event);
    if (queue.length >= 4 * options.batchSize) stream.pause();
    wakeUp();
  });
  stream.on('error', (error: Error) => {
    failure ??= error;
    wakeUp();
  });
  stream.on('end', () => {
    failure ??= new Error('the EventStoreDB subscription to $all ended');
    wakeUp();
  });
  const run = async () => {
    while (!closing) {
      if (queue.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const batch = queue.splice(0, options.batchSize);
      if (stream.isPaused() && queue.length < options.batchSize) stream.resume();
      await handler(batch);
      position = batch.at(-1)!.globalPosition;
    }
  };
  const done = run();
  done.catch(() => {});
  let closed: Promise<void> | undefined;
  return {
    get position() {
      return position;
    },
    done,
    close: () => {
      closed ??= (async () => {
        closing = true;
        wakeUp();
        await stream.unsubscribe().catch(() => {});
        await done.catch(() => {});
        onClosed();
      })();
      return closed;
    },
  };
}
