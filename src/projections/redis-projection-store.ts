import type { Json } from '../events/envelope.js';
import type { Keys } from '../events/keys.js';
import {
  LuaScript,
  type ReplyValue,
  replyNumber,
  replyString,
  replyStrings,
} from '../events/lua-script.js';
import { masters, type RedisClient } from '../events/redis-connection.js';
import { compareStreamIds } from '../events/stream-ids.js';
import { CheckpointFeed } from './checkpoint-feed.js';
import { entryIdOf } from './partition-position.js';
import type { ReadModelDoc, ReadModelWrite } from './projection.js';
import type {
  CheckpointListener,
  CommitBatch,
  CommitResult,
  DocPage,
  Lease,
  ProjectionState,
  ProjectionStore,
  RebuildState,
} from './projection-store.js';

const script = (file: string) => LuaScript.load(new URL(`./lua/${file}`, import.meta.url));
const acquireLease = script('acquire-lease-2.lua');
const renewLease = script('renew-lease-1.lua');
const releaseLease = script('release-lease-1.lua');
const commitProjection = script('commit-projection-1.lua');
const beginRebuild = script('begin-rebuild-1.lua');
const swapGeneration = script('swap-generation-1.lua');
const readDocs = script('read-docs-1.lua');

/** The writes as the commit script reads them: `[id, delete, [field, json, …], [field, n, …]]`. */
function encodeWrites(writes: readonly ReadModelWrite[]): string {
  return JSON.stringify(
    writes.map((w) => [
      w.id,
      w.delete ? 1 : 0,
      Object.entries(w.set ?? {}).flatMap(([field, value]) => [field, JSON.stringify(value)]),
      Object.entries(w.incr ?? {}).flat(),
      w.keepNewest ? [w.keepNewest.index, w.keepNewest.score, w.keepNewest.keep] : [],
    ]),
  );
}

function decodeDoc(flat: readonly string[]): ReadModelDoc {
  const doc: ReadModelDoc = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value: Json = JSON.parse(flat[i + 1]!); // written by the commit script as JSON
    doc[flat[i]!] = value;
  }
  return doc;
}

/**
 * The projection store on Redis: one hash per projection, one hash per document (DESIGN.md §3).
 * With PARTITIONS > 1 there is one per partition, on that partition's keys: its lease, checkpoint
 * (a `<p>:<id>` position) and the documents of the streams it holds.
 */
export class RedisProjectionStore implements ProjectionStore {
  /** Removes this store's listeners from the feed. */
  private readonly unlisten = new Set<() => void>();
  private readonly feed: CheckpointFeed;

  /**
   * @param feed the checkpoint subscription shared by every partition's store (backend.ts); by
   *   default one of the store's own, closed with it.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly sharedFeed?: CheckpointFeed,
  ) {
    this.feed = sharedFeed ?? new CheckpointFeed(redis);
  }

  async acquire(
    name: string,
    owner: string,
    ttlMs: number,
    steal = false,
  ): Promise<Lease | undefined> {
    const reply = await acquireLease.run(
      this.redis,
      [this.keys.lease(name), this.keys.projection(name)],
      [owner, ttlMs, steal ? 1 : 0],
    );
    return reply.status === 'ok' ? { owner, fence: replyNumber(reply.values, 0) } : undefined;
  }

  async renew(name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    const held = `${lease.owner} ${lease.fence}`;
    const reply = await renewLease.run(this.redis, [this.keys.lease(name)], [held, ttlMs]);
    return reply.status === 'ok';
  }

  async release(name: string, lease: Lease): Promise<void> {
    await releaseLease.run(this.redis, [this.keys.lease(name)], [`${lease.owner} ${lease.fence}`]);
  }

  async state(name: string): Promise<ProjectionState> {
    const [[, hash], [, lease]] = (await this.redis
      .multi()
      .hmget(this.keys.projection(name), 'checkpoint', 'fence', 'generation')
      .get(this.keys.lease(name))
      .exec()) as [[null, (string | null)[]], [null, string | null]];
    const [checkpoint, fence, generation] = hash;
    const leader = lease ? lease.slice(0, lease.lastIndexOf(' ')) : undefined;
    return {
      checkpoint: checkpoint ?? '0',
      fence: Number(fence ?? 0),
      generation: Number(generation ?? 1),
      ...(leader ? { leader } : {}),
    };
  }

  async commit(name: string, batch: CommitBatch): Promise<CommitResult> {
    const reply = await commitProjection.run(
      this.redis,
      [this.keys.projection(name)],
      [
        batch.fence,
        batch.from,
        batch.to,
        batch.rebuild ? 'rebuild' : 'live',
        batch.generation,
        this.readModelPrefix(name),
        encodeWrites(batch.writes),
        this.keys.projectionCheckpoints,
        name,
      ],
    );
    if (reply.status === 'ok') return 'ok';
    return replyString(reply.values, 0) === 'fenced' ? 'fenced' : 'moved';
  }

  async get(name: string, id: string): Promise<ReadModelDoc | undefined> {
    const [, fields] = await this.read(name, ['get', id, 1]);
    return Array.isArray(fields) ? decodeDoc(replyStrings(fields)) : undefined;
  }

  async list(name: string, options: { limit: number; after?: string }): Promise<DocPage> {
    const flat = await this.read(name, ['list', options.after ?? '', options.limit]);
    const docs: (ReadModelDoc & { id: string })[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const fields = flat[i + 1];
      if (Array.isArray(fields))
        docs.push({ ...decodeDoc(replyStrings(fields)), id: replyString(flat, i) });
    }
    const last = docs.at(-1)?.id;
    return docs.length === options.limit && last ? { docs, nextCursor: last } : { docs };
  }

  async beginRebuild(name: string): Promise<RebuildState> {
    const { values } = await beginRebuild.run(this.redis, [this.keys.projection(name)], []);
    return { generation: replyNumber(values, 0), checkpoint: replyString(values, 1) };
  }

  async swap(name: string, fence: number): Promise<number> {
    const reply = await swapGeneration.run(this.redis, [this.keys.projection(name)], [fence]);
    if (reply.status === 'conflict')
      throw new Error('FENCED the lease was taken by another holder');
    if (reply.status !== 'ok') throw new Error('NOREBUILD no rebuild in progress');
    return replyNumber(reply.values, 0);
  }

  async dropOldGenerations(name: string): Promise<number> {
    const hash = this.keys.projection(name);
    const [current, rebuilding] = await this.redis.hmget(hash, 'generation', 'rebuild:generation');
    const keep = new Set([current ?? '1', rebuilding].filter(Boolean).map(String));
    const prefix = this.readModelPrefix(name);
    let dropped = 0;
    // SCAN runs per node: on a cluster the partition's keys are on one master, found by scanning each
    for (const node of masters(this.redis)) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        const old = batch.filter((key) => !keep.has(key.slice(prefix.length).split(':')[0]!));
        // one slot (the partition's tag), so one UNLINK even on a cluster
        if (old.length) dropped += await this.redis.unlink(...old);
      } while (cursor !== '0');
    }
    return dropped;
  }

  async lag(name: string, cap: number): Promise<number> {
    const { checkpoint } = await this.state(name);
    const from = checkpoint === '0' ? '-' : `(${entryIdOf(checkpoint)}`;
    return (await this.redis.xrange(this.keys.all, from, '+', 'COUNT', cap)).length;
  }

  reached(position: string, minPosition: string): boolean {
    // one partition's positions: `<p>:<id>` with PARTITIONS > 1, the same p on both sides
    return compareStreamIds(entryIdOf(position), entryIdOf(minPosition)) >= 0;
  }

  onCheckpoint(listener: CheckpointListener): () => void {
    const remove = this.feed.listen(this.keys.projectionCheckpoints, listener);
    this.unlisten.add(remove);
    return () => {
      remove();
      this.unlisten.delete(remove);
    };
  }

  async close(): Promise<void> {
    for (const remove of this.unlisten) remove();
    this.unlisten.clear();
    if (!this.sharedFeed) await this.feed.close();
  }

  private readModelPrefix(name: string): string {
    return this.keys.readModel(name);
  }

  private async read(name: string, args: (string | number)[]): Promise<readonly ReplyValue[]> {
    const reply = await readDocs.run(
      this.redis,
      [this.keys.projection(name)],
      [this.readModelPrefix(name), ...args],
    );
    return reply.values;
  }
}
