import { applyWrites, type ReadModelDoc } from './projection.js';
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

interface Held {
  owner: string;
  fence: number;
  until: number;
}

interface Stored {
  checkpoint: string;
  fence: number;
  generation: number;
  lease?: Held;
  rebuild?: { generation: number; checkpoint: string };
  generations: Map<number, Map<string, ReadModelDoc>>;
}

/**
 * The projection store in one process's memory (STORE=memory, tests). Positions are those of
 * `MemoryEventStore` (decimal event counts); `logLength` gives the log's length for `lag`.
 */
export class MemoryProjectionStore implements ProjectionStore {
  private readonly projections = new Map<string, Stored>();
  private readonly listeners = new Set<CheckpointListener>();

  constructor(private readonly logLength: () => number) {}

  async acquire(
    name: string,
    owner: string,
    ttlMs: number,
    steal = false,
  ): Promise<Lease | undefined> {
    const p = this.of(name);
    const lease = this.alive(p);
    if (lease?.owner === owner) {
      lease.until = Date.now() + ttlMs;
      return { owner, fence: lease.fence };
    }
    if (lease && !steal) return undefined;
    p.fence += 1;
    p.lease = { owner, fence: p.fence, until: Date.now() + ttlMs };
    return { owner, fence: p.fence };
  }

  async renew(name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    const held = this.alive(this.of(name));
    if (held?.owner !== lease.owner || held.fence !== lease.fence) return false;
    held.until = Date.now() + ttlMs;
    return true;
  }

  async release(name: string, lease: Lease): Promise<void> {
    const p = this.of(name);
    if (p.lease?.owner === lease.owner && p.lease.fence === lease.fence) delete p.lease;
  }

  async state(name: string): Promise<ProjectionState> {
    const p = this.of(name);
    const leader = this.alive(p)?.owner;
    return {
      checkpoint: p.checkpoint,
      fence: p.fence,
      generation: p.generation,
      ...(leader ? { leader } : {}),
    };
  }

  async commit(name: string, batch: CommitBatch): Promise<CommitResult> {
    const p = this.of(name);
    if (batch.rebuild) {
      if (p.rebuild?.generation !== batch.generation || p.rebuild.checkpoint !== batch.from)
        return 'moved';
      applyWrites(this.docs(p, batch.generation), batch.writes);
      p.rebuild.checkpoint = batch.to;
      return 'ok';
    }
    if (p.fence !== batch.fence) return 'fenced';
    if (p.checkpoint !== batch.from || p.generation !== batch.generation) return 'moved';
    applyWrites(this.docs(p, batch.generation), batch.writes);
    p.checkpoint = batch.to;
    for (const listener of this.listeners) listener(name, batch.to);
    return 'ok';
  }

  async get(name: string, id: string): Promise<ReadModelDoc | undefined> {
    const p = this.of(name);
    const doc = this.docs(p, p.generation).get(id);
    return doc ? { ...doc } : undefined;
  }

  async list(name: string, options: { limit: number; after?: string }): Promise<DocPage> {
    const p = this.of(name);
    const docs = [...this.docs(p, p.generation)]
      .filter(([id]) => options.after === undefined || id > options.after)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, options.limit)
      .map(([id, doc]) => ({ ...doc, id }));
    const last = docs.at(-1)?.id;
    return docs.length === options.limit && last ? { docs, nextCursor: last } : { docs };
  }

  async beginRebuild(name: string): Promise<RebuildState> {
    const p = this.of(name);
    p.rebuild ??= { generation: p.generation + 1, checkpoint: '0' };
    return { ...p.rebuild };
  }

  async swap(name: string, fence: number): Promise<number> {
    const p = this.of(name);
    if (p.fence !== fence) throw new Error('FENCED the lease was taken by another holder');
    if (!p.rebuild) throw new Error('NOREBUILD no rebuild in progress');
    const replaced = p.generation;
    p.generation = p.rebuild.generation;
    p.checkpoint = p.rebuild.checkpoint;
    delete p.rebuild;
    return replaced;
  }

  async dropOldGenerations(name: string): Promise<number> {
    const p = this.of(name);
    let dropped = 0;
    for (const generation of p.generations.keys()) {
      if (generation === p.generation || generation === p.rebuild?.generation) continue;
      p.generations.delete(generation);
      dropped += 1;
    }
    return dropped;
  }

  async lag(name: string, cap: number): Promise<number> {
    return Math.min(cap, Math.max(0, this.logLength() - Number(this.of(name).checkpoint)));
  }

  reached(position: string, minPosition: string): boolean {
    return Number(position) >= Number(minPosition);
  }

  onCheckpoint(listener: CheckpointListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Documents held for `name` across every generation (tests, to see old generations dropped). */
  documentCount(name: string): number {
    let count = 0;
    for (const docs of this.of(name).generations.values()) count += docs.size;
    return count;
  }

  private of(name: string): Stored {
    let p = this.projections.get(name);
    if (!p) {
      p = { checkpoint: '0', fence: 0, generation: 1, generations: new Map() };
      this.projections.set(name, p);
    }
    return p;
  }

  private alive(p: Stored): Held | undefined {
    return p.lease && p.lease.until > Date.now() ? p.lease : undefined;
  }

  private docs(p: Stored, generation: number): Map<string, ReadModelDoc> {
    let docs = p.generations.get(generation);
    if (!docs) {
      docs = new Map();
      p.generations.set(generation, docs);
    }
    return docs;
  }
}
