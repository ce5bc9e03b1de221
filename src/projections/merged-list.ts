/**
 * `list` across partitions (DESIGN.md §8): documents are listed in id order, and each id lives in
 * exactly one partition, so the next page of the whole read model is the smallest `limit` ids
 * after the cursor among every partition's. A k-way merge reads each partition a chunk at a time
 * (about 2·limit/P documents) and refills only the partitions it used up, so a page costs about
 * `limit` documents read plus a chunk per partition, not `limit` per partition. The cursor stays
 * the last id returned: it means the same in every partition.
 */
import type { DocPage, ProjectionStore } from './projection-store.js';

type Doc = DocPage['docs'][number];

/** One partition's unread documents. */
interface Lane {
  readonly store: ProjectionStore;
  docs: Doc[];
  after: string | undefined;
  done: boolean;
}

/** The page of `name` after `after` in id order, merged over `stores` (one store: its own page). */
export async function mergedList(
  stores: readonly ProjectionStore[],
  name: string,
  options: { readonly limit: number; readonly after?: string },
): Promise<DocPage> {
  if (stores.length === 1) return stores[0]!.list(name, options);
  const { limit } = options;
  const chunk = Math.min(limit, Math.max(16, Math.ceil((2 * limit) / stores.length)));
  const lanes: Lane[] = stores.map((store) => ({
    store,
    docs: [],
    after: options.after,
    done: false,
  }));
  const fill = async (lane: Lane) => {
    const page = await lane.store.list(name, {
      limit: chunk,
      ...(lane.after !== undefined ? { after: lane.after } : {}),
    });
    lane.docs = [...page.docs];
    lane.after = page.nextCursor;
    lane.done = page.nextCursor === undefined;
  };
  const docs: Doc[] = [];
  while (docs.length < limit) {
    await Promise.all(lanes.filter((l) => l.docs.length === 0 && !l.done).map(fill));
    let next: Lane | undefined;
    for (const lane of lanes) {
      const head = lane.docs[0];
      if (head && (!next || head.id < next.docs[0]!.id)) next = lane;
    }
    if (!next) break;
    docs.push(next.docs.shift()!);
  }
  const last = docs.at(-1)?.id;
  return docs.length === limit && last ? { docs, nextCursor: last } : { docs };
}
