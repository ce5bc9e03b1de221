/**
 * The field's state: every trainer's latest report, fed by `position.update` notifications and
 * `trainer.list` pages. A report replaces the one known only when its version is newer, so a
 * snapshot fetched after an update does not move a trainer back. Pure (no DOM, no clock).
 */
import type { TrainerSnapshot } from './interpolate.js';

/** `position.update` params (SPEC.md §5). */
export interface PositionUpdate {
  readonly trainerId: string;
  readonly x: number;
  readonly y: number;
  readonly isMoving: boolean;
  readonly dirX: number;
  readonly dirY: number;
  readonly version: number;
  readonly at: string;
}

/** A `trainer.list` item (the read model), as far as the field reads it. */
export interface TrainerListItem {
  readonly trainerId: string;
  readonly x: number;
  readonly y: number;
  readonly isMoving: boolean;
  readonly direction: { readonly x: number; readonly y: number };
  readonly speed: number;
  readonly version: number;
  readonly updatedAt: string;
}

/** `params` of a notification as a position update, or undefined when it is not one. */
export function positionUpdateOf(params: unknown): PositionUpdate | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const p = params as Record<string, unknown>;
  const numbers = ['x', 'y', 'dirX', 'dirY', 'version'].every(
    (k) => typeof p[k] === 'number' && Number.isFinite(p[k]),
  );
  if (!numbers || typeof p.trainerId !== 'string' || typeof p.isMoving !== 'boolean') {
    return undefined;
  }
  if (typeof p.at !== 'string' || Number.isNaN(Date.parse(p.at))) return undefined;
  return p as unknown as PositionUpdate;
}

/** Counters the page shows (console/README.md). */
export interface FieldCounters {
  /** Position updates received and processed (each notification once). */
  applied: number;
  /** Of those, how many were not newer than a report already known from an update. */
  stale: number;
}

/** Every trainer's latest report, and which changed since `takeChanged`. */
export class TrainerField {
  private readonly trainers = new Map<string, TrainerSnapshot>();
  /** Versions that came from live updates (the duplicate check ignores snapshot versions). */
  private readonly liveVersions = new Map<string, number>();
  private changed = new Set<string>();
  readonly counters: FieldCounters = { applied: 0, stale: 0 };
  /** TRAINER_SPEED as the server last told it (trainer.list, trainer.move results). */
  speed = 5;

  get size(): number {
    return this.trainers.size;
  }

  get(trainerId: string): TrainerSnapshot | undefined {
    return this.trainers.get(trainerId);
  }

  all(): IterableIterator<TrainerSnapshot> {
    return this.trainers.values();
  }

  /** Applies a live update; false when the state already held a newer report (kept). */
  applyUpdate(u: PositionUpdate): boolean {
    this.counters.applied += 1;
    const seen = this.liveVersions.get(u.trainerId);
    if (seen !== undefined && u.version <= seen) {
      this.counters.stale += 1;
      return false;
    }
    this.liveVersions.set(u.trainerId, u.version);
    return this.put({
      trainerId: u.trainerId,
      x: u.x,
      y: u.y,
      isMoving: u.isMoving,
      dirX: u.dirX,
      dirY: u.dirY,
      version: u.version,
      atMs: Date.parse(u.at),
    });
  }

  /** Merges a page of the read model (after a reset or at start). */
  applySnapshot(items: readonly TrainerListItem[]): void {
    for (const t of items) {
      this.speed = t.speed || this.speed;
      this.put({
        trainerId: t.trainerId,
        x: t.x,
        y: t.y,
        isMoving: t.isMoving,
        dirX: t.direction.x,
        dirY: t.direction.y,
        version: t.version,
        atMs: Date.parse(t.updatedAt),
      });
    }
  }

  /** The ids changed since the last call. */
  takeChanged(): ReadonlySet<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  /** True when some trainer moves (the field must redraw every frame). */
  anyMoving(): boolean {
    for (const t of this.trainers.values()) if (t.isMoving) return true;
    return false;
  }

  private put(next: TrainerSnapshot): boolean {
    const known = this.trainers.get(next.trainerId);
    if (known && known.version >= next.version) return false;
    this.trainers.set(next.trainerId, next);
    this.changed.add(next.trainerId);
    return true;
  }
}
