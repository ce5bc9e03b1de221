/**
 * Draws the field on a canvas: every trainer at its interpolated position, all dots in one path
 * (1 000 trainers stay cheap), yours highlighted and labelled; ids are drawn when few trainers
 * are on screen (the list beside the canvas always names them all).
 */
import { positionAt, type TrainerSnapshot } from './interpolate.js';

/** What part of the world the canvas shows; eased towards every trainer's bounding box. */
export interface View {
  cx: number;
  cy: number;
  /** World units across the shorter side. */
  span: number;
}

const MIN_SPAN = 60;
const LABEL_LIMIT = 40;
const EASE = 0.15;

/** Draws `trainers` at server time `nowMs`; moves `view` a step towards fitting them all. */
export function drawField(
  ctx: CanvasRenderingContext2D,
  trainers: Iterable<TrainerSnapshot>,
  options: {
    readonly nowMs: number;
    readonly speed: number;
    readonly ownId: string;
    readonly selectedId: string | undefined;
    readonly view: View;
  },
): void {
  const { width, height } = ctx.canvas;
  const points: { id: string; x: number; y: number }[] = [];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const t of trainers) {
    const p = positionAt(t, options.nowMs, options.speed);
    points.push({ id: t.trainerId, x: p.x, y: p.y });
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const view = options.view;
  if (points.length) {
    const span = Math.max(maxX - minX, maxY - minY, MIN_SPAN) * 1.2;
    view.cx += ((minX + maxX) / 2 - view.cx) * EASE;
    view.cy += ((minY + maxY) / 2 - view.cy) * EASE;
    view.span += (span - view.span) * EASE;
  }
  const scale = Math.min(width, height) / view.span;
  const sx = (x: number) => width / 2 + (x - view.cx) * scale;
  const sy = (y: number) => height / 2 + (y - view.cy) * scale;

  ctx.fillStyle = '#f7f9fc';
  ctx.fillRect(0, 0, width, height);
  drawGrid(ctx, view, scale, sx, sy);
  ctx.fillStyle = '#3b5b8c';
  ctx.beginPath();
  for (const p of points) {
    if (p.id === options.ownId) continue;
    ctx.moveTo(sx(p.x) + 3, sy(p.y));
    ctx.arc(sx(p.x), sy(p.y), 3, 0, Math.PI * 2);
  }
  ctx.fill();
  ctx.font = '12px system-ui, sans-serif';
  if (points.length <= LABEL_LIMIT) {
    ctx.fillStyle = '#1d2b40';
    for (const p of points)
      if (p.id !== options.ownId) ctx.fillText(p.id, sx(p.x) + 6, sy(p.y) - 6);
  }
  for (const p of points) {
    if (p.id === options.selectedId) ring(ctx, sx(p.x), sy(p.y), 9, '#1b7f3b');
    if (p.id !== options.ownId) continue;
    ctx.fillStyle = '#d9480f';
    ctx.beginPath();
    ctx.arc(sx(p.x), sy(p.y), 7, 0, Math.PI * 2);
    ctx.fill();
    ring(ctx, sx(p.x), sy(p.y), 11, '#d9480f');
    ctx.fillStyle = '#7a2600';
    ctx.fillText(`${p.id} (you)`, sx(p.x) + 13, sy(p.y) + 4);
  }
}

function ring(ctx: CanvasRenderingContext2D, x: number, y: number, r: number, color: string): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.stroke();
}

/** Grid lines every power of ten that leaves 4–40 lines on screen. */
function drawGrid(
  ctx: CanvasRenderingContext2D,
  view: View,
  scale: number,
  sx: (x: number) => number,
  sy: (y: number) => number,
): void {
  const { width, height } = ctx.canvas;
  const step = 10 ** Math.ceil(Math.log10(view.span / 20));
  const halfW = width / 2 / scale;
  const halfH = height / 2 / scale;
  ctx.strokeStyle = '#dde3ec';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let x = Math.floor((view.cx - halfW) / step) * step; x <= view.cx + halfW; x += step) {
    ctx.moveTo(Math.round(sx(x)) + 0.5, 0);
    ctx.lineTo(Math.round(sx(x)) + 0.5, height);
  }
  for (let y = Math.floor((view.cy - halfH) / step) * step; y <= view.cy + halfH; y += step) {
    ctx.moveTo(0, Math.round(sy(y)) + 0.5);
    ctx.lineTo(width, Math.round(sy(y)) + 0.5);
  }
  ctx.stroke();
}
