/**
 * The EventStoreDB notifier (DESIGN.md §4): a leased, fenced follower of `$all` (like a
 * projector) that writes what each append caused to Redis — its key's outcome, its notifications,
 * its deployment job, its reply — with its checkpoint, in one script call per batch
 * (lua/apply-effects-n.lua). An instance that dies between the append and the notifier loses
 * nothing: whoever leads next resumes from the checkpoint; a batch written twice is refused
 * ('moved'), so nothing is doubled. Its lease and checkpoint live in the projection store as
 * `notifier` (`{sc}:proj:notifier`).
 */

import {
  type FollowStart,
  LeasedFollower,
  type LeasedFollowerOptions,
  LostLease,
} from '../../projections/leased-follower.js';
import type { Lease } from '../../projections/projection-store.js';
import type { RecordedEvent } from '../envelope.js';
import { START } from '../event-store.js';
import type { Keys } from '../keys.js';
import { LuaScript } from '../lua-script.js';
import { type Appended, appendedOf } from '../outcome.js';
import type { RedisClient } from '../redis-connection.js';
import { type AppendEffects, appendEffectsOf } from './esdb-events.js';

const applyScript = LuaScript.load(new URL('./lua/apply-effects-n.lua', import.meta.url));

/** The notifier's lease and checkpoint name in the projection store. */
export const NOTIFIER_LEASE = 'notifier';

export interface NotifierOptions extends LeasedFollowerOptions {
  readonly redis: RedisClient;
  readonly keys: Keys;
  /** COMMAND_DEDUP_TTL_S */
  readonly dedupTtlS: number;
  /** NOTIFY_RETENTION */
  readonly notifyRetention: number;
}

/** One append whose effects a batch writes. */
interface Effected {
  readonly last: RecordedEvent;
  readonly effects: AppendEffects;
}

export class EsdbNotifier extends LeasedFollower {
  /** Appends whose effects this instance wrote, and outcomes it recorded (while it led). */
  applied = 0;
  recorded = 0;
  private checkpoint = START;

  constructor(private readonly notifierOptions: NotifierOptions) {
    super(notifierOptions);
  }

  get name(): string {
    return NOTIFIER_LEASE;
  }

  protected get label(): string {
    return 'notifier';
  }

  protected get fields(): Readonly<Record<string, unknown>> {
    return { component: 'notifier' };
  }

  /** Where the last batch written ended (`START` before the first). */
  get position(): string {
    return this.checkpoint;
  }

  protected async begin(): Promise<FollowStart> {
    const state = await this.options.store.state(NOTIFIER_LEASE);
    this.checkpoint = state.checkpoint || START;
    return { after: this.checkpoint };
  }

  protected async commit(lease: Lease, batch: readonly RecordedEvent[]): Promise<void> {
    const effected = batch.flatMap((last): Effected[] => {
      const effects = appendEffectsOf(last);
      return effects ? [{ last, effects }] : [];
    });
    const to = batch.at(-1)!.globalPosition;
    const { keys, redis, dedupTtlS, notifyRetention } = this.notifierOptions;
    const scriptKeys = [keys.projection(NOTIFIER_LEASE), keys.notify];
    const args: (string | number)[] = [
      lease.fence,
      this.checkpoint,
      to,
      dedupTtlS,
      notifyRetention,
      effected.length,
    ];
    for (const { last, effects } of effected) {
      const outcome = await this.outcomeOf(last, effects, batch);
      scriptKeys.push(
        effects.key ? keys.done(effects.key) : keys.notify,
        effects.job ? keys.jobs(effects.job.queue) : keys.notify,
      );
      args.push(effects.key, effects.reply, JSON.stringify(outcome), effects.serverId);
      args.push(effects.notes.length);
      for (const n of effects.notes)
        args.push(n.method, n.params, n.target, n.targetIds, n.topic, n.trace);
      if (effects.job) {
        const { id, type, data, meta } = effects.job;
        args.push('1', id, type, data, meta);
      } else args.push('0');
    }
    const reply = await applyScript.run(redis, scriptKeys, args);
    if (reply.status !== 'ok') {
      throw new LostLease(
        `the notifier's ${String(reply.values[0])} (fence ${lease.fence}, from ${this.checkpoint})`,
      );
    }
    this.checkpoint = to;
    this.applied += effected.length;
    this.recorded += Number(reply.values[0] ?? 0);
  }

  /** The appended outcome of the append `last` ends: its earlier events from the batch or the stream. */
  private async outcomeOf(
    last: RecordedEvent,
    effects: AppendEffects,
    batch: readonly RecordedEvent[],
  ): Promise<Appended> {
    const firstVersion = last.version - effects.count + 1;
    let events = batch.filter(
      (e) => e.streamId === last.streamId && e.version >= firstVersion && e.version <= last.version,
    );
    if (events.length !== effects.count) {
      // the append began in an earlier batch (or before a restart): read it back
      const page = await this.options.events.readStream(last.streamId, {
        fromVersion: firstVersion,
        limit: effects.count,
      });
      events = [...page.events];
    }
    return appendedOf(events, effects.result ? JSON.parse(effects.result) : undefined);
  }
}
