import { expect } from 'chai';
import {
  type MoveTrainer,
  moveTrainerParams,
  type TrainerMoved,
  trainerDecider,
  trainerNotifications,
} from '../../src/domain/trainer.js';
import { DomainRuleError, ValidationError } from '../../src/errors.js';
import { givenDecider } from '../support/decider-given.js';

const t0 = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(t0) + seconds * 1000).toISOString();
const move = (action: 'start' | 'stop', seconds: number, x = 0, y = 0): MoveTrainer => ({
  type: 'MoveTrainer',
  data: { trainerId: 'ash', action, direction: { x, y } },
  metadata: {
    commandId: `c-${seconds}`,
    userId: 'ash',
    correlationId: 'k',
    timestamp: at(seconds),
  },
});
const moved = (
  action: 'start' | 'stop',
  seconds: number,
  position: { x: number; y: number },
  direction: { x: number; y: number },
): TrainerMoved => ({
  type: 'TrainerMoved',
  data: {
    trainerId: 'ash',
    action,
    position,
    movement:
      action === 'start'
        ? { isMoving: true, direction, speed: 5, startedAt: at(seconds) }
        : { isMoving: false, direction: { x: 0, y: 0 }, speed: 0, startedAt: null },
    at: at(seconds),
  },
});

const given = givenDecider(trainerDecider({ speed: 5 }));

describe('trainer decider (seed 004)', () => {
  it('starts a trainer that never moved from (0, 0), normalising the direction', () => {
    given([])
      .when(move('start', 0, 3, 4))
      .then([moved('start', 0, { x: 0, y: 0 }, { x: 0.6, y: 0.8 })]);
  });

  it('integrates direction × speed × elapsed seconds when the direction changes while moving', () => {
    given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 })])
      .when(move('start', 2, 0, 1))
      .then([moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 })]);
  });

  it('integrates up to the stop and then stands still', () => {
    given([
      moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }),
      moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 }),
    ])
      .when(move('stop', 3))
      .then([moved('stop', 3, { x: 10, y: 5 }, { x: 0, y: 0 })]);
    given([
      moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }),
      moved('stop', 3, { x: 15, y: 0 }, { x: 0, y: 0 }),
    ])
      .when(move('start', 100, -1, 0))
      .then([moved('start', 100, { x: 15, y: 0 }, { x: -1, y: 0 })]);
  });

  it('clamps negative elapsed time at 0 (a reclaimed, older command)', () => {
    given([moved('start', 10, { x: 1, y: 1 }, { x: 1, y: 0 })])
      .when(move('stop', 4))
      .then([moved('stop', 4, { x: 1, y: 1 }, { x: 0, y: 0 })]);
  });

  it('refuses to stop a trainer that is not moving', () => {
    given([])
      .when(move('stop', 1))
      .thenThrows(DomainRuleError, (e) => expect(e.rule).to.equal('trainer-not-moving'));
    given([
      moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }),
      moved('stop', 1, { x: 5, y: 0 }, { x: 0, y: 0 }),
    ])
      .when(move('stop', 2))
      .thenThrows(DomainRuleError);
  });

  it('refuses (0, 0) and non-finite directions even without the schema', () => {
    given([])
      .when(move('start', 0, 0, 0))
      .thenThrows(ValidationError);
    given([])
      .when(move('start', 0, Number.NaN, 1))
      .thenThrows(ValidationError);
    given([])
      .when(move('start', 0, Number.POSITIVE_INFINITY, 1))
      .thenThrows(ValidationError);
  });

  it('maps TrainerMoved to one position.update for everyone on topic trainer.<id>', () => {
    const [n, ...rest] = trainerNotifications(moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 }), {
      streamId: 'trainer-ash',
      version: 7,
      timestamp: at(2),
    });
    expect(rest).to.have.length(0);
    expect(n).to.deep.equal({
      method: 'position.update',
      params: {
        trainerId: 'ash',
        x: 10,
        y: 0,
        isMoving: true,
        dirX: 0,
        dirY: 1,
        version: 7,
        at: at(2),
      },
      target: 'broadcast',
      targetIds: [],
      topic: 'trainer.ash',
    });
  });
});

describe('trainer.move params', () => {
  const issues = (params: unknown) => {
    const r = moveTrainerParams.safeParse(params);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  it('accepts a start with a direction and a stop without one', () => {
    expect(issues({ action: 'start', directionX: 1, directionY: 0 })).to.deep.equal([]);
    expect(issues({ action: 'stop' })).to.deep.equal([]);
    expect(
      issues({
        action: 'start',
        directionX: 1,
        directionY: 0,
        expectedVersion: 'exists',
        commandId: crypto.randomUUID(),
      }),
    ).to.deep.equal([]);
  });
  it('names every problem', () => {
    expect(issues({ action: 'start' })).to.deep.equal([
      'directionX: directionX and directionY are required to start',
    ]);
    expect(issues({ action: 'start', directionX: 0, directionY: 0 })).to.deep.equal([
      'directionX: the direction (0, 0) has no heading',
    ]);
    expect(issues({ action: 'jump' })).to.have.length(1);
    expect(
      issues({
        action: 'stop',
        trainerId: 'has space',
        commandId: 'nope',
        expectedVersion: -1,
      }).map((i) => i.split(':')[0]),
    ).to.deep.equal(['trainerId', 'commandId', 'expectedVersion']);
  });
});
