import { inflateSync } from 'node:zlib';
import { expect } from 'chai';
import { Canvas, crc32, linePlot } from '../../scripts/bench/png.js';
import { growthOver } from '../../scripts/bench/soak.js';

/** The chunks of a PNG file: type and data, each CRC checked. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  expect([...png.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const found: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length), `CRC of ${type}`).to.equal(
      crc32(png.subarray(at + 4, at + 8 + length)),
    );
    found.push({ type, data });
    at += 12 + length;
  }
  return found;
}

describe('soak benchmark pieces', () => {
  it('computes CRC-32 as PNG defines it', () => {
    expect(crc32(Buffer.from('IEND', 'latin1'))).to.equal(0xae426082);
    expect(crc32(Buffer.from('123456789', 'latin1'))).to.equal(0xcbf43926);
  });

  it('encodes a canvas as a PNG whose pixels decode back', () => {
    const canvas = new Canvas(5, 3);
    canvas.set(1, 2, [10, 20, 30]);
    canvas.line(0, 0, 4, 0, [200, 0, 0]);
    const parts = chunks(canvas.png());
    expect(parts.map((c) => c.type)).to.deep.equal(['IHDR', 'IDAT', 'IEND']);
    const header = parts[0]!.data;
    expect([header.readUInt32BE(0), header.readUInt32BE(4), header[8], header[9]]).to.deep.equal([
      5, 3, 8, 2,
    ]);
    const raw = inflateSync(parts[1]!.data);
    expect(raw.length).to.equal(3 * (1 + 5 * 3));
    const pixel = (x: number, y: number) => [
      ...raw.subarray(y * 16 + 1 + x * 3, y * 16 + 4 + x * 3),
    ];
    expect(pixel(1, 2)).to.deep.equal([10, 20, 30]);
    expect(pixel(4, 0)).to.deep.equal([200, 0, 0]);
    expect(pixel(4, 2)).to.deep.equal([255, 255, 255]);
  });

  it('plots each series in its colour', () => {
    const plot = linePlot(
      [
        {
          label: 'on',
          colour: [30, 90, 200],
          points: [
            [0, 1],
            [5, 2],
          ],
        },
        {
          label: 'off',
          colour: [210, 50, 40],
          points: [
            [0, 1],
            [5, 40],
          ],
        },
      ],
      { xLabel: 'min', yLabel: 'MB', width: 200, height: 120 },
    );
    const raw = inflateSync(chunks(plot)[1]!.data);
    const count = (r: number, g: number, b: number) => {
      let n = 0;
      for (let i = 0; i + 2 < raw.length; i++)
        if (raw[i] === r && raw[i + 1] === g && raw[i + 2] === b) n++;
      return n;
    };
    expect(count(30, 90, 200), 'blue pixels').to.be.greaterThan(100);
    expect(count(210, 50, 40), 'red pixels').to.be.greaterThan(100);
  });

  it('measures growth over a window as slope × length, and by its endpoints', () => {
    const samples = Array.from({ length: 13 }, (_, i) => ({
      atS: i * 5,
      usedMemory: 1000 + (i >= 6 ? 100 * (i - 6) : 0) + (i % 2) * 7,
      logLength: 0,
      handled: i * 50,
    }));
    const growth = growthOver(samples, 30);
    expect(growth.windowS).to.equal(30);
    expect(growth.endpointBytes).to.equal(600);
    expect(growth.slopeBytes).to.be.within(590, 610);
    expect(growth.movesInWindow).to.equal(300);
    expect(growth.bytesPerMove).to.be.within(1.9, 2.1);
    expect(() => growthOver(samples, 61)).to.throw(/fewer than 2 memory samples/);
  });
});
