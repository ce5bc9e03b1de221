/**
 * A tiny PNG writer for benchmark plots (BENCH.md `soak`): an RGB canvas, lines, a 3×5 pixel font
 * for axis numbers, and the PNG encoding itself (IHDR, one zlib IDAT, IEND) with node:zlib. No
 * dependency: a plot of two curves does not need a charting library.
 */
import { deflateSync } from 'node:zlib';

/** An RGB colour, 0–255 each. */
export type Rgb = readonly [number, number, number];

/** A width × height RGB image, white to start. */
export class Canvas {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 3).fill(255);
  }

  /** Sets one pixel; outside the canvas it does nothing. */
  set(x: number, y: number, [r, g, b]: Rgb): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    const at = (py * this.width + px) * 3;
    this.pixels[at] = r;
    this.pixels[at + 1] = g;
    this.pixels[at + 2] = b;
  }

  /** A filled rectangle. */
  fill(x: number, y: number, w: number, h: number, colour: Rgb): void {
    for (let dy = 0; dy < h; dy++) for (let dx = 0; dx < w; dx++) this.set(x + dx, y + dy, colour);
  }

  /** A line `thickness` pixels wide (DDA: one step per pixel of the longer side). */
  line(x0: number, y0: number, x1: number, y1: number, colour: Rgb, thickness = 1): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    const half = Math.floor(thickness / 2);
    for (let i = 0; i <= steps; i++) {
      const x = x0 + ((x1 - x0) * i) / steps;
      const y = y0 + ((y1 - y0) * i) / steps;
      this.fill(Math.round(x) - half, Math.round(y) - half, thickness, thickness, colour);
    }
  }

  /** Text in the 3×5 font, each font pixel `scale` pixels; unknown characters leave a gap. */
  text(x: number, y: number, text: string, colour: Rgb, scale = 2): void {
    let cx = x;
    for (const ch of text) {
      const rows = GLYPHS[ch];
      for (let row = 0; rows && row < 5; row++) {
        for (let col = 0; col < 3; col++) {
          if (rows[row]! & (4 >> col))
            this.fill(cx + col * scale, y + row * scale, scale, scale, colour);
        }
      }
      cx += 4 * scale;
    }
  }

  /** The image as PNG bytes (8-bit RGB, no interlace, filter 0 on every row). */
  png(): Buffer {
    const stride = this.width * 3;
    const raw = Buffer.alloc((stride + 1) * this.height);
    for (let y = 0; y < this.height; y++) {
      raw[y * (stride + 1)] = 0;
      raw.set(this.pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
    }
    const header = Buffer.alloc(13);
    header.writeUInt32BE(this.width, 0);
    header.writeUInt32BE(this.height, 4);
    header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, filter, no interlace
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 as PNG (and zlib) define it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** 3×5 glyphs, one number per row, bit 4 the left column: digits and the few letters plots use. */
const GLYPHS: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  M: [5, 7, 7, 5, 5],
  B: [6, 5, 6, 5, 6],
  m: [0, 7, 7, 5, 5],
  i: [2, 0, 2, 2, 2],
  n: [0, 6, 5, 5, 5],
  o: [0, 7, 5, 5, 7],
  f: [3, 2, 7, 2, 2],
};

/** A curve of a line plot. */
export interface Series {
  readonly label: string;
  readonly colour: Rgb;
  /** (x, y) points in data units, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

/**
 * A line plot of `series` on shared axes from 0 (x: `xLabel` units, y: `yLabel` units), with
 * gridlines at round steps labelled in the 3×5 font, and a legend of each series' label.
 */
export function linePlot(
  series: readonly Series[],
  options: { width?: number; height?: number; xLabel: string; yLabel: string },
): Buffer {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const canvas = new Canvas(width, height);
  const left = 56;
  const right = width - 16;
  const top = 28;
  const bottom = height - 32;
  const all = series.flatMap((s) => s.points);
  const xMax = niceCeil(Math.max(1e-9, ...all.map(([x]) => x)));
  const yMax = niceCeil(Math.max(1e-9, ...all.map(([, y]) => y)));
  const px = (x: number) => left + ((right - left) * x) / xMax;
  const py = (y: number) => bottom - ((bottom - top) * Math.max(0, y)) / yMax;
  const grid: Rgb = [225, 225, 225];
  const ink: Rgb = [60, 60, 60];
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    canvas.line(left, py(y), right, py(y), grid);
    canvas.text(4, py(y) - 5, short(y), ink);
    const x = (xMax * i) / 5;
    canvas.line(px(x), top, px(x), bottom, grid);
    canvas.text(px(x) - 8, bottom + 8, short(x), ink);
  }
  canvas.line(left, top, left, bottom, ink);
  canvas.line(left, bottom, right, bottom, ink);
  canvas.text(4, 6, options.yLabel, ink);
  canvas.text(right - 4 * 2 * options.xLabel.length, bottom + 20, options.xLabel, ink);
  series.forEach((s, i) => {
    for (let k = 1; k < s.points.length; k++) {
      const [x0, y0] = s.points[k - 1]!;
      const [x1, y1] = s.points[k]!;
      canvas.line(px(x0), py(y0), px(x1), py(y1), s.colour, 2);
    }
    canvas.fill(left + 16 + i * 90, 8, 20, 8, s.colour);
    canvas.text(left + 42 + i * 90, 7, s.label, ink);
  });
  return canvas.png();
}

/** The smallest of 1, 2, 2.5 or 5 × 10^k at or above `n`. */
function niceCeil(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((v) => v >= n * (1 - 1e-12)) ?? 10 * power;
}

/** A tick label: at most one decimal. */
function short(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
