/**
 * The checkpoint announcements of every partition on one connection (DESIGN.md §8): each
 * partition's leader SPUBLISHes on its partition's `projectionCheckpoints` channel, and an
 * instance listens to the channels its waiting queries need through one dedicated subscriber
 * (on a cluster, a Cluster client whose sharded subscriptions reach each channel's node), instead
 * of one connection per partition.
 */
import { dedicated, type RedisClient } from '../events/redis-connection.js';
import type { CheckpointListener } from './projection-store.js';

export class CheckpointFeed {
  private subscriber: RedisClient | undefined;
  private readonly channels = new Map<string, Set<CheckpointListener>>();

  constructor(private readonly redis: RedisClient) {}

  /** Calls `listener` with each `<name>\t<checkpoint>` on `channel`; returns the remover. */
  listen(channel: string, listener: CheckpointListener): () => void {
    let listeners = this.channels.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.channels.set(channel, listeners);
      this.subscriber ??= this.connect();
      this.subscriber.ssubscribe(channel).catch(() => {}); // waiters poll the state meanwhile
    }
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /** Ends the subscription (idempotent); listeners added later subscribe again. */
  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.channels.clear();
    await subscriber?.quit().catch(() => subscriber.disconnect());
  }

  private connect(): RedisClient {
    const subscriber = dedicated(this.redis);
    subscriber.on('error', () => {}); // the main connection reports outages; waiters poll meanwhile
    subscriber.on('smessage', (channel: string, message: string) => {
      const tab = message.indexOf('\t');
      const [name, checkpoint] = [message.slice(0, tab), message.slice(tab + 1)];
      for (const listener of this.channels.get(channel) ?? []) listener(name, checkpoint);
    });
    return subscriber;
  }
}
