import { expect } from 'chai';
import {
  applyWrites,
  coalesceWrites,
  foldInMemory,
  type ReadModelDoc,
  type ReadModelWrite,
  type RecordedEvent,
  trainerPositions,
  writesOf,
} from '../../src/index.js';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function randomWrites(next: () => number, n: number): ReadModelWrite[] {
  return Array.from({ length: n }, (): ReadModelWrite => {
    const id = `d${Math.floor(next() * 4)}`;
    const r = next();
    if (r < 0.1) return { id, delete: true };
    if (r < 0.2) return { id, delete: true, set: { a: Math.floor(next() * 10) } };
    if (r < 0.5) return { id, set: { a: Math.floor(next() * 10), s: 'x' } };
    if (r < 0.6) return { id, set: { a: null } };
    return { id, incr: { a: Math.floor(next() * 3) + 1, n: 1 } };
  });
}

describe('projection writes', () => {
  it('coalesced per document, they give what applying them one by one gives', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const writes = randomWrites(random(seed), 1 + (seed % 25));
      const oneByOne = new Map<string, ReadModelDoc>([['d0', { a: 5, keep: true }]]);
      const coalesced = new Map<string, ReadModelDoc>([['d0', { a: 5, keep: true }]]);
      applyWrites(oneByOne, writes);
      const merged = coalesceWrites(writes);
      applyWrites(coalesced, merged);
      expect(coalesced, `seed ${seed}`).to.deep.equal(oneByOne);
      expect(new Set(merged.map((w) => w.id)).size, 'one write per document').to.equal(
        merged.length,
      );
    }
  });

  it('trainer-positions keeps the last move of each trainer and counts the moves', () => {
    const moved = (trainerId: string, version: number, x: number, pos: string): RecordedEvent => ({
      id: `e-${pos}`,
      type: 'TrainerMoved',
      schemaVersion: 1,
      streamId: `trainer-${trainerId}`,
      version,
      globalPosition: pos,
      data: {
        trainerId,
        action: 'start',
        position: { x, y: 0 },
        movement: { isMoving: true, direction: { x: 1, y: 0 }, speed: 5, startedAt: `t${pos}` },
        at: `t${pos}`,
      },
      metadata: { correlationId: 'c', serverId: 's', timestamp: `t${pos}` },
    });
    const other: RecordedEvent = { ...moved('x', 1, 0, '3'), type: 'MessageBroadcast' };
    const events = [
      moved('ash', 1, 1, '1'),
      moved('misty', 1, 2, '2'),
      other,
      moved('ash', 2, 3, '4'),
    ];
    expect(writesOf(trainerPositions, events)).to.have.length(2);
    const docs = foldInMemory(trainerPositions, events);
    expect(docs.get('ash')).to.deep.equal({
      trainerId: 'ash',
      x: 3,
      y: 0,
      isMoving: true,
      direction: { x: 1, y: 0 },
      speed: 5,
      version: 2,
      moves: 2,
      updatedAt: 't4',
      globalPosition: '4',
    });
    expect(docs.get('misty')?.moves).to.equal(1);
    expect(docs.has('x')).to.equal(false);
  });
});
