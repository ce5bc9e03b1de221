import { expect } from 'chai';
import { positionAt, ServerClock } from '../../console/src/field/interpolate.js';
import {
  type PositionUpdate,
  positionUpdateOf,
  TrainerField,
} from '../../console/src/field/trainers.js';

const T0 = Date.parse('2026-12-03T12:00:00.000Z');

function update(version: number, x: number, at = T0, isMoving = true): PositionUpdate {
  return {
    trainerId: 'ash',
    x,
    y: 0,
    isMoving,
    dirX: 1,
    dirY: 0,
    version,
    at: new Date(at).toISOString(),
  };
}

describe('console field: interpolation', () => {
  const moving = {
    trainerId: 'a',
    x: 1,
    y: 2,
    isMoving: true,
    dirX: 0.6,
    dirY: -0.8,
    version: 3,
    atMs: T0,
  };

  it('moves direction × speed × seconds since the report', () => {
    expect(positionAt(moving, T0 + 2000, 5)).to.deep.equal({ x: 1 + 0.6 * 10, y: 2 - 0.8 * 10 });
  });

  it('stands still when not moving, and never extrapolates backwards in time', () => {
    expect(positionAt({ ...moving, isMoving: false }, T0 + 9000, 5)).to.deep.equal({ x: 1, y: 2 });
    expect(positionAt(moving, T0 - 5000, 5)).to.deep.equal({ x: 1, y: 2 });
  });

  it('takes the server clock from the smallest receipt delay seen', () => {
    const clock = new ServerClock();
    expect(clock.now(1000)).to.equal(1000);
    clock.observe(T0, T0 + 250); // local clock 250 ms ahead, plus delay
    clock.observe(T0 + 1000, T0 + 1180); // a faster delivery: 180
    clock.observe(T0 + 2000, T0 + 2400);
    expect(clock.now(T0 + 5180)).to.equal(T0 + 5000);
  });
});

describe('console field: trainer state', () => {
  it('applies newer updates, counts every one, and counts those not newer as stale', () => {
    const field = new TrainerField();
    expect(field.applyUpdate(update(1, 0))).to.equal(true);
    expect(field.applyUpdate(update(2, 5))).to.equal(true);
    expect(field.applyUpdate(update(2, 5))).to.equal(false);
    expect(field.applyUpdate(update(1, 0))).to.equal(false);
    expect(field.counters).to.deep.equal({ applied: 4, stale: 2 });
    expect(field.get('ash')?.x).to.equal(5);
    expect([...field.takeChanged()]).to.deep.equal(['ash']);
    expect([...field.takeChanged()]).to.deep.equal([]);
  });

  it('never moves a trainer back to an older snapshot, and takes the speed from it', () => {
    const field = new TrainerField();
    field.applyUpdate(update(7, 30));
    const item = {
      trainerId: 'ash',
      x: 10,
      y: 0,
      isMoving: false,
      direction: { x: 0, y: 0 },
      speed: 8,
      version: 6,
      updatedAt: new Date(T0).toISOString(),
    };
    field.takeChanged();
    field.applySnapshot([item, { ...item, trainerId: 'misty', version: 2 }]);
    expect(field.get('ash')?.x).to.equal(30);
    expect(field.get('misty')?.version).to.equal(2);
    expect(field.speed).to.equal(8);
    expect([...field.takeChanged()]).to.deep.equal(['misty']);
    expect(field.counters.applied, 'snapshots are not updates').to.equal(1);
  });

  it('a snapshot newer than the last update wins, and a later update is not stale by it', () => {
    const field = new TrainerField();
    field.applyUpdate(update(1, 0));
    field.applySnapshot([
      {
        trainerId: 'ash',
        x: 9,
        y: 0,
        isMoving: false,
        direction: { x: 0, y: 0 },
        speed: 5,
        version: 3,
        updatedAt: new Date(T0).toISOString(),
      },
    ]);
    expect(field.get('ash')?.x).to.equal(9);
    expect(field.applyUpdate(update(2, 4)), 'older than the snapshot: kept out').to.equal(false);
    expect(field.get('ash')?.x).to.equal(9);
    expect(field.counters.stale).to.equal(0);
  });

  it('reads position.update params, refusing anything else', () => {
    expect(positionUpdateOf(update(1, 2))).to.deep.equal(update(1, 2));
    expect(positionUpdateOf({ ...update(1, 2), x: 'far' })).to.equal(undefined);
    expect(positionUpdateOf({ ...update(1, 2), at: 'yesterday' })).to.equal(undefined);
    expect(positionUpdateOf(null)).to.equal(undefined);
  });

  it('knows whether anything moves', () => {
    const field = new TrainerField();
    field.applyUpdate(update(1, 0, T0, false));
    expect(field.anyMoving()).to.equal(false);
    field.applyUpdate(update(2, 0, T0, true));
    expect(field.anyMoving()).to.equal(true);
  });
});
