/**
 * The field's frame loop: each animation frame, if something changed or moves, it redraws the
 * canvas with the latest state (a counted frame) and applies the changed trainers to the list,
 * so DOM work is batched once per frame however many updates arrived. It also writes the counters
 * the tests read (console/README.md).
 */
import { drawField, type View } from './draw.js';
import type { ServerClock, TrainerSnapshot } from './interpolate.js';
import type { TrainerField } from './trainers.js';

/** Where the loop draws and writes. */
export interface FrameTargets {
  readonly canvas: HTMLCanvasElement;
  readonly list: HTMLElement;
  readonly ownPosition: HTMLElement;
  /** Called when a trainer's button is activated. */
  readonly onSelect: (trainerId: string) => void;
}

/** Counters shown in the connection bar, by testid. */
const COUNTER_IDS = ['updates-applied', 'updates-stale', 'frames-drawn', 'trainers-count'] as const;

/** A running frame loop. */
export class FrameLoop {
  frames = 0;
  selectedId: string | undefined;
  private readonly view: View = { cx: 0, cy: 0, span: 100 };
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private raf = 0;
  private resized = true;

  constructor(
    private readonly field: TrainerField,
    private readonly clock: ServerClock,
    private readonly ownId: string,
    private readonly targets: FrameTargets,
  ) {}

  start(): void {
    const tick = () => {
      this.frame();
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  stop(): void {
    cancelAnimationFrame(this.raf);
  }

  /** Redraw at the next frame even if nothing changed (size, selection). */
  invalidate(): void {
    this.resized = true;
  }

  private frame(): void {
    const changed = this.field.takeChanged();
    const canvas = this.targets.canvas;
    if (fitCanvas(canvas)) this.resized = true;
    if (changed.size > 0 || this.resized || this.field.anyMoving()) {
      const ctx = canvas.getContext('2d');
      if (ctx && canvas.width > 0) {
        drawField(ctx, this.field.all(), {
          nowMs: this.clock.now(Date.now()),
          speed: this.field.speed,
          ownId: this.ownId,
          selectedId: this.selectedId,
          view: this.view,
        });
        this.frames += 1;
      }
      this.resized = false;
    }
    for (const id of changed) this.showTrainer(this.field.get(id)!);
    this.writeCounters();
  }

  private showTrainer(t: TrainerSnapshot): void {
    let button = this.buttons.get(t.trainerId);
    if (!button) {
      button = document.createElement('button');
      button.type = 'button';
      button.dataset.testid = `trainer-${t.trainerId}`;
      const id = t.trainerId;
      button.addEventListener('click', () => this.targets.onSelect(id));
      const item = document.createElement('li');
      item.append(button);
      if (id === this.ownId) this.targets.list.prepend(item);
      else this.targets.list.append(item);
      this.buttons.set(id, button);
    }
    const moving = t.isMoving ? ', moving' : '';
    button.textContent = `${t.trainerId} (${t.x.toFixed(1)}, ${t.y.toFixed(1)})${moving}`;
    setData(button, t);
    if (t.trainerId === this.ownId) {
      setData(this.targets.ownPosition, t);
      this.targets.ownPosition.textContent = `(${t.x.toFixed(1)}, ${t.y.toFixed(1)}) v${t.version}${moving}`;
    }
  }

  private writeCounters(): void {
    const values: Record<(typeof COUNTER_IDS)[number], number> = {
      'updates-applied': this.field.counters.applied,
      'updates-stale': this.field.counters.stale,
      'frames-drawn': this.frames,
      'trainers-count': this.field.size,
    };
    for (const id of COUNTER_IDS) {
      const text = String(values[id]);
      const el = document.querySelector(`[data-testid="${id}"]`);
      if (el && el.textContent !== text) el.textContent = text;
    }
  }
}

function setData(el: HTMLElement, t: TrainerSnapshot): void {
  el.dataset.x = String(t.x);
  el.dataset.y = String(t.y);
  el.dataset.version = String(t.version);
  el.dataset.moving = String(t.isMoving);
}

/** Sizes the canvas's pixels to its box; true when they changed. */
function fitCanvas(canvas: HTMLCanvasElement): boolean {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * ratio);
  const h = Math.round(canvas.clientHeight * ratio);
  if (canvas.width === w && canvas.height === h) return false;
  canvas.width = w;
  canvas.height = h;
  return true;
}
