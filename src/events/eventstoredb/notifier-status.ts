/**
 * How far the EventStoreDB notifier is (STORE=eventstoredb), as `system.status` and `/metrics`
 * show it: its checkpoint in `$all`, the events after it (counted up to LAG_CAP, like a
 * projection's lag) and the instance holding its lease. Every reply and notification waits for
 * it, so a growing lag is what an operator watches. An unreadable store is a status too.
 */
import type { Metrics } from '../../metrics.js';
import type { ProjectionPartition } from '../../projections/projection-store.js';
import { LAG_CAP } from '../../projections/read-models.js';
import { START } from '../event-store.js';
import { NOTIFIER_LEASE } from './notifier.js';

export interface NotifierStatus {
  /** The position of the last event whose effects are written (`0`: none yet). */
  readonly checkpoint: string;
  /** Events of `$all` after it, counted up to 1000. */
  readonly lagEvents: number;
  /** SERVER_ID holding the notifier's lease. */
  readonly leader?: string;
  /** Why it could not be read. */
  readonly error?: string;
}

export async function notifierStatus({
  events,
  store,
}: ProjectionPartition): Promise<NotifierStatus> {
  try {
    const state = await store.state(NOTIFIER_LEASE);
    const checkpoint = state.checkpoint || START;
    const page = await events.readAll({ after: checkpoint, limit: LAG_CAP });
    return {
      checkpoint,
      lagEvents: page.events.length,
      ...(state.leader ? { leader: state.leader } : {}),
    };
  } catch (error) {
    return {
      checkpoint: '',
      lagEvents: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** `streamcast_eventstoredb_notifier_lag_events` and `_up`, read at scrape time (one read per second). */
export function registerNotifierMetrics(
  metrics: Metrics,
  status: () => Promise<NotifierStatus>,
): void {
  let read: { at: number; status: Promise<NotifierStatus> } | undefined;
  const current = () => {
    if (!read || Date.now() - read.at > 1000) read = { at: Date.now(), status: status() };
    return read.status;
  };
  metrics.gauge({
    name: 'streamcast_eventstoredb_notifier_lag_events',
    help: "Events of EventStoreDB's $all after the notifier's checkpoint (counted up to 1000): replies and notifications wait for them",
    async collect() {
      this.set((await current()).lagEvents);
    },
  });
  metrics.gauge({
    name: 'streamcast_eventstoredb_up',
    help: "1 when EventStoreDB and the notifier's checkpoint could be read at the last scrape, else 0",
    async collect() {
      this.set((await current()).error ? 0 : 1);
    },
  });
}
