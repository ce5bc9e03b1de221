/**
 * Retention of one partition (DESIGN.md §9): its log is trimmed below the smallest of what is
 * archived, every projection's checkpoint and now − LOG_RETENTION_MS (trim-log-n.lua, one
 * bounded atomic step at a time), and each entity stream whose trimmed events it saw is trimmed
 * below its newest snapshot (never past its trimmed log entries, never its newest entry).
 *
 * No lease: every instance runs one per partition every second. Each step reads its bounds inside
 * its script, so two instances trimming at once remove the same entries once; the archived bound
 * is read from the archive before the step and only grows, so a stale one trims less, never more.
 */
import type { EventArchive } from '../archive/event-archive.js';
import type { Logger } from '../log.js';
import type { Keys } from './keys.js';
import { LuaScript, type ReplyValue } from './lua-script.js';
import type { RedisClient } from './redis-connection.js';

const trimScript = LuaScript.load(new URL('./lua/trim-log-n.lua', import.meta.url));

/** Most log entries one step removes (a script must stay short: it blocks Redis). */
export const TRIM_STEP = 1000;

/**
 * The newest snapshot of an entity stream (the decider runtime writes them every SNAPSHOT_EVERY
 * events): an entity stream is trimmed below it, since a load starts there.
 */
export interface SnapshotVersions {
  /** The version of the stream's newest valid snapshot; 0 without one (nothing is trimmed). */
  newestSnapshotVersion(streamId: string): Promise<number>;
}

/** No snapshots (SNAPSHOT_EVERY=0): entity streams are never trimmed. */
export const NO_SNAPSHOTS: SnapshotVersions = { newestSnapshotVersion: async () => 0 };

export interface TrimmerOptions {
  readonly redis: RedisClient;
  /** The partition's keys. */
  readonly keys: Keys;
  readonly partition: number;
  /** ARCHIVE_URL's archive; without it the log is trimmed on time alone (history gone for good). */
  readonly archive?: EventArchive;
  /** LOG_RETENTION_MS; without it (and with an archive) entries go once archived and projected. */
  readonly retentionMs?: number;
  /** Names of the projections folding this partition's log: none of them loses an event. */
  readonly projections: readonly string[];
  readonly snapshots: SnapshotVersions;
  readonly logger: Logger;
}

/** What one `trim` removed. */
export interface Trimmed {
  readonly logEntries: number;
  readonly streamEntries: number;
  /** The newest log entry id removed so far (`''` when this run removed none). */
  readonly upTo: string;
}

/** Trims one partition (see the module comment). */
export class Trimmer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TrimmerOptions) {
    if (!options.archive && options.retentionMs === undefined) {
      throw new Error('a trimmer needs an archive (ARCHIVE_URL) or LOG_RETENTION_MS');
    }
  }

  /** Trims until a step finds less than a full step to remove. */
  async trim(): Promise<Trimmed> {
    let logEntries = 0;
    let streamEntries = 0;
    let upTo = '';
    for (;;) {
      const step = await this.step();
      logEntries += step.removed;
      streamEntries += await this.trimStreams(step.streams);
      if (step.upTo) upTo = step.upTo;
      if (step.removed < TRIM_STEP) return { logEntries, streamEntries, upTo };
    }
  }

  /** Trims every `intervalMs` until `close`; a failed run is logged and tried again next time. */
  start(intervalMs = 1000): this {
    const tick = () => {
      this.running = this.trim().then(
        () => {},
        (error: unknown) =>
          this.options.logger.warn('retention trim failed; trying again', {
            component: 'retention',
            partition: this.options.partition,
            error: error instanceof Error ? error.message : String(error),
          }),
      );
    };
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
    return this;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async step() {
    const { redis, keys, archive, partition, retentionMs, projections } = this.options;
    const archived = archive ? await archive.archivedUpTo(partition) : '';
    const result = await trimScript.run(
      redis,
      [keys.all, keys.logTrimmed, ...projections.map((name) => keys.projection(name))],
      [archived, retentionMs === undefined ? '' : String(retentionMs), String(TRIM_STEP)],
    );
    return decodeStep(result.values);
  }

  /** Trims each stream below min(its newest snapshot, its newest trimmed log version). */
  private async trimStreams(streams: ReadonlyMap<string, number>): Promise<number> {
    const { redis, keys, snapshots } = this.options;
    let removed = 0;
    for (const [streamId, trimmedVersion] of streams) {
      const snapshot = await snapshots.newestSnapshotVersion(streamId);
      const below = Math.min(snapshot, trimmedVersion);
      if (below <= 1) continue;
      removed += Number(await redis.xtrim(keys.stream(streamId), 'MINID', `0-${below}`));
    }
    return removed;
  }
}

function decodeStep(values: readonly ReplyValue[]): {
  removed: number;
  upTo: string;
  streams: Map<string, number>;
} {
  const streams = new Map<string, number>();
  for (let i = 2; i + 1 < values.length; i += 2) {
    streams.set(String(values[i]), Number(values[i + 1]));
  }
  return { removed: Number(values[0]), upTo: String(values[1] ?? ''), streams };
}
