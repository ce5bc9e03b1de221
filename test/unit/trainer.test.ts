import { expect } from 'chai';
import {
  type MoveTrainer,
  moveResult,
  moveTrainer,
  moveTrainerParams,
  normalise,
  positionAt,
  type TrainerMoved,
  trainerDecider,
  trainerNotifications,
  trainerStreamId,
  type Vector,
} from '../../src/domain/index.js';
import { DomainRuleError, ValidationError } from '../../src/errors.js';
import { deciderSpecification } from '../support/decider-spec.js';

const t0 = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(t0) + seconds * 1000).toISOString();

const move = (action: 'start' | 'stop', seconds: number, x = 0, y = 0, trainerId = 'ash') =>
  ({
    type: 'MoveTrainer',
    data: { trainerId, action, direction: { x, y } },
    metadata: {
      commandId: `c-${seconds}`,
      userId: 'ash',
      correlationId: 'k',
      timestamp: at(seconds),
    },
  }) satisfies MoveTrainer;

/** A `TrainerMoved` at `seconds`; `startedAt` defaults to the move's time. */
const moved = (
  action: 'start' | 'stop',
  seconds: number,
  position: Vector,
  direction: Vector = { x: 0, y: 0 },
  startedAtSeconds = seconds,
): TrainerMoved => ({
  type: 'TrainerMoved',
  data: {
    trainerId: 'ash',
    action,
    position,
    movement:
      action === 'start'
        ? { isMoving: true, direction, speed: 5, startedAt: at(startedAtSeconds) }
        : { isMoving: false, direction: { x: 0, y: 0 }, speed: 0, startedAt: null },
    at: at(seconds),
  },
});

const decider = trainerDecider({ speed: 5 });
const given = deciderSpecification(decider);
const stateAfter = (events: readonly TrainerMoved[]) =>
  events.reduce(decider.evolve, decider.initialState());

describe('trainer decider (seed 004)', () => {
  describe('position integrates direction × speed × elapsed seconds', () => {
    it('starts a trainer that never moved at (0, 0), with the direction normalised', () => {
      given([])
        .when(move('start', 0, 3, 4))
        .then([moved('start', 0, { x: 0, y: 0 }, { x: 0.6, y: 0.8 })]);
    });

    it('turns while moving: integrates the first leg, then takes the new direction', () => {
      given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 })])
        .when(move('start', 2, 0, 1))
        .then([moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 })]);
    });

    it('stops: integrates up to the stop, then stands with direction (0, 0) and speed 0', () => {
      given([
        moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }),
        moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 }),
      ])
        .when(move('stop', 3))
        .then([moved('stop', 3, { x: 10, y: 5 })]);
    });

    it('runs the whole start → turn → stop sequence through decide and evolve', () => {
      const commands = [move('start', 0, 1, 0), move('start', 2, 0, 1), move('stop', 3)];
      const events: TrainerMoved[] = [];
      for (const command of commands) {
        events.push(...decider.decide(command, stateAfter(events)));
      }
      expect(events.map((e) => e.data.position)).to.deep.equal([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 5 },
      ]);
      expect(stateAfter(events)).to.deep.equal({
        exists: true,
        x: 10,
        y: 5,
        isMoving: false,
        direction: { x: 0, y: 0 },
        speed: 0,
        startedAt: null,
        at: at(3),
        version: 3,
      });
    });

    it('does not move while standing: a start long after a stop starts where it stopped', () => {
      given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }), moved('stop', 3, { x: 15, y: 0 })])
        .when(move('start', 100, -1, 0))
        .then([moved('start', 100, { x: 15, y: 0 }, { x: -1, y: 0 })]);
    });

    it('integrates diagonals and fractions of a second', () => {
      given([moved('start', 0, { x: 0, y: 0 }, { x: 0.6, y: 0.8 })])
        .when(move('stop', 2))
        .then([moved('stop', 2, { x: 6, y: 8 })]);
      given([moved('start', 0, { x: 1, y: -1 }, { x: -1, y: 0 })])
        .when(move('stop', 0.5))
        .then([moved('stop', 0.5, { x: -1.5, y: -1 })]);
    });

    it('uses the configured speed', () => {
      const slow = trainerDecider({ speed: 2 });
      const [event] = slow.decide(move('stop', 4), {
        ...slow.initialState(),
        exists: true,
        isMoving: true,
        direction: { x: 0, y: -1 },
        speed: 2,
        startedAt: at(0),
        at: at(0),
        version: 1,
      });
      expect(event?.data.position).to.deep.equal({ x: 0, y: -8 });
      expect(
        slow.decide(move('start', 0, 1, 0), slow.initialState())[0]?.data.movement.speed,
      ).to.equal(2);
    });
  });

  describe('a reclaimed, older command', () => {
    it('clamps the elapsed time at 0 and does not move the clock back', () => {
      given([moved('start', 10, { x: 1, y: 1 }, { x: 1, y: 0 })])
        .when(move('stop', 4))
        .then([moved('stop', 10, { x: 1, y: 1 })]);
    });

    it('starts an older start no earlier than the last move, so no time is counted twice', () => {
      const history = [
        moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }),
        moved('stop', 10, { x: 50, y: 0 }),
      ];
      given(history)
        .when(move('start', 5, 1, 0))
        .then([moved('start', 10, { x: 50, y: 0 }, { x: 1, y: 0 })]);
      given([...history, moved('start', 10, { x: 50, y: 0 }, { x: 1, y: 0 })])
        .when(move('stop', 12))
        .then([moved('stop', 12, { x: 60, y: 0 })]);
    });
  });

  describe('rules and validation', () => {
    it('refuses to stop a trainer that never moved (rule trainer-not-moving)', () => {
      const error = given([]).when(move('stop', 1)).thenThrows(DomainRuleError);
      expect(error.rule).to.equal('trainer-not-moving');
      expect(error.message).to.equal(
        'trainer ash is not moving, so it cannot stop: start it first',
      );
    });

    it('refuses to stop a trainer that already stopped', () => {
      given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 }), moved('stop', 1, { x: 5, y: 0 })])
        .when(move('stop', 2))
        .thenThrows(DomainRuleError, (e) => e.rule === 'trainer-not-moving');
    });

    it('refuses the direction (0, 0) to start, even without the params schema', () => {
      const error = given([])
        .when(move('start', 0, 0, 0))
        .thenThrows(ValidationError);
      expect(error.issues.map((i) => i.path)).to.deep.equal(['directionX']);
    });

    it('refuses non-finite directions, naming the axis', () => {
      const paths = (x: number, y: number, action: 'start' | 'stop' = 'start') =>
        given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 })])
          .when(move(action, 1, x, y))
          .thenThrows(ValidationError)
          .issues.map((i) => i.path);
      expect(paths(Number.NaN, 1)).to.deep.equal(['directionX']);
      expect(paths(1, Number.POSITIVE_INFINITY)).to.deep.equal(['directionY']);
      expect(paths(Number.NEGATIVE_INFINITY, Number.NaN)).to.deep.equal([
        'directionX',
        'directionY',
      ]);
      expect(paths(Number.NaN, 0, 'stop')).to.deep.equal(['directionX']);
    });

    it('refuses a trainerId that is not an identifier', () => {
      for (const trainerId of ['', 'has space', 'a/b', 'x'.repeat(129)]) {
        given([])
          .when(move('start', 0, 1, 0, trainerId))
          .thenThrows(ValidationError, (e) => e.issues[0]?.path === 'trainerId');
      }
      const [event] = decider.decide(
        move('start', 0, 1, 0, 'Ash.Ketchum_1:kanto-01'),
        decider.initialState(),
      );
      expect(event?.data.trainerId).to.equal('Ash.Ketchum_1:kanto-01');
    });

    it('refuses a command whose timestamp is not a time', () => {
      const command = {
        ...move('start', 0, 1, 0),
        metadata: { ...move('start', 0).metadata, timestamp: 'soon' },
      };
      given([])
        .when(command)
        .thenThrows(ValidationError, (e) => e.issues[0]?.path === 'metadata.timestamp');
    });

    it('ignores the direction of a stop', () => {
      given([moved('start', 0, { x: 0, y: 0 }, { x: 1, y: 0 })])
        .when(move('stop', 1, 7, 7))
        .then([moved('stop', 1, { x: 5, y: 0 })]);
    });
  });

  it('evolves TrainerMoved into the state, counting versions', () => {
    expect(decider.initialState()).to.deep.equal({
      exists: false,
      x: 0,
      y: 0,
      isMoving: false,
      direction: { x: 0, y: 0 },
      speed: 0,
      startedAt: null,
      at: null,
      version: 0,
    });
    expect(stateAfter([moved('start', 0, { x: 2, y: 3 }, { x: 0, y: 1 })])).to.deep.equal({
      exists: true,
      x: 2,
      y: 3,
      isMoving: true,
      direction: { x: 0, y: 1 },
      speed: 5,
      startedAt: at(0),
      at: at(0),
      version: 1,
    });
  });

  it('positionAt gives where a state is at a time, never going back', () => {
    const state = stateAfter([moved('start', 0, { x: 1, y: 1 }, { x: 0, y: 1 })]);
    expect(positionAt(state, at(4))).to.deep.equal({ x: 1, y: 21 });
    expect(positionAt(state, at(-4))).to.deep.equal({ x: 1, y: 1 });
    expect(positionAt(decider.initialState(), at(4))).to.deep.equal({ x: 0, y: 0 });
  });

  it('names the stream trainer-<trainerId>', () => {
    expect(trainerStreamId('ash')).to.equal('trainer-ash');
    expect(trainerStreamId('a.b:c')).to.equal('trainer-a.b:c');
  });
});

describe('normalise', () => {
  it('gives a unit vector along the direction', () => {
    expect(normalise(3, 4)).to.deep.equal({ x: 0.6, y: 0.8 });
    expect(normalise(-2, 0)).to.deep.equal({ x: -1, y: 0 });
    expect(normalise(0, 0.001)).to.deep.equal({ x: 0, y: 1 });
    const huge = normalise(1e300, 1e300);
    expect(huge.x).to.be.closeTo(Math.SQRT1_2, 1e-15);
    expect(huge.y).to.be.closeTo(Math.SQRT1_2, 1e-15);
  });

  it('refuses (0, 0) and non-finite numbers', () => {
    expect(() => normalise(0, 0)).to.throw(ValidationError, 'the direction (0, 0) has no heading');
    expect(() => normalise(Number.NaN, 1)).to.throw(
      ValidationError,
      'directionX: NaN is not finite',
    );
    expect(() => normalise(1, Number.POSITIVE_INFINITY)).to.throw(
      ValidationError,
      'directionY: Infinity is not finite',
    );
  });
});

describe('trainer notifications', () => {
  const context = (version: number, seconds: number) => ({
    streamId: 'trainer-ash',
    version,
    timestamp: at(seconds),
  });

  it('maps a start to one position.update for everyone on topic trainer.<id>', () => {
    expect(
      trainerNotifications(moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 }), context(7, 2)),
    ).to.deep.equal([
      {
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
      },
    ]);
  });

  it('maps a stop to a standing position.update with the event version', () => {
    const [notification] = trainerNotifications(moved('stop', 3, { x: 10, y: 5 }), context(8, 3));
    expect(notification?.params).to.deep.equal({
      trainerId: 'ash',
      x: 10,
      y: 5,
      isMoving: false,
      dirX: 0,
      dirY: 0,
      version: 8,
      at: at(3),
    });
  });
});

describe('moveResult', () => {
  const event = moved('start', 2, { x: 10, y: 0 }, { x: 0, y: 1 });
  const recorded = {
    commandId: 'c-2',
    trainerId: 'ash',
    position: { x: 10, y: 0 },
    movement: { isMoving: true, direction: { x: 0, y: 1 }, speed: 5, startedAt: at(2) },
  };

  it('builds the trainer.move result from the event and where it landed', () => {
    expect(
      moveTrainer.answerOf(moveResult('c-2', event), {
        version: 3,
        globalPosition: '1700000000000-0',
      }),
    ).to.deep.equal({ ...recorded, version: 3, globalPosition: '1700000000000-0' });
  });

  it('without where it landed, builds the part the runtime records', () => {
    expect(moveResult('c-2', event)).to.deep.equal(recorded);
  });
});

describe('trainer.move params (moveTrainerParams)', () => {
  const issues = (params: unknown) => {
    const r = moveTrainerParams.safeParse(params);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  const paths = (params: unknown) => issues(params).map((i) => i.split(':')[0]);

  it('accepts a start with a direction and a stop without one', () => {
    expect(issues({ action: 'start', directionX: 1, directionY: 0 })).to.deep.equal([]);
    expect(issues({ action: 'stop' })).to.deep.equal([]);
    expect(issues({ action: 'stop', directionX: 0, directionY: 0 })).to.deep.equal([]);
    expect(
      issues({
        action: 'start',
        directionX: -0.5,
        directionY: 2,
        trainerId: 'Ash.Ketchum_1:kanto-01',
        commandId: '3b241101-e2bb-4255-8caf-4136c566a962',
        expectedVersion: 'exists',
      }),
    ).to.deep.equal([]);
  });

  it('accepts expectedVersion 0, a positive integer, any and exists', () => {
    for (const expectedVersion of [0, 12, 'any', 'exists']) {
      expect(issues({ action: 'stop', expectedVersion })).to.deep.equal([]);
    }
    for (const expectedVersion of [-1, 1.5, 'none', null]) {
      expect(paths({ action: 'stop', expectedVersion })).to.deep.equal(['expectedVersion']);
    }
  });

  it('names missing directions and the heading (0, 0) on start', () => {
    expect(issues({ action: 'start' })).to.deep.equal([
      'directionX: directionX and directionY are required to start',
    ]);
    expect(issues({ action: 'start', directionX: 1 })).to.deep.equal([
      'directionY: directionY is required to start',
    ]);
    expect(issues({ action: 'start', directionX: 0, directionY: 0 })).to.deep.equal([
      'directionX: the direction (0, 0) has no heading',
    ]);
  });

  it('refuses NaN, infinite and non-numeric directions', () => {
    expect(paths({ action: 'start', directionX: Number.NaN, directionY: 1 })).to.deep.equal([
      'directionX',
    ]);
    expect(
      paths({ action: 'start', directionX: 1, directionY: Number.POSITIVE_INFINITY }),
    ).to.deep.equal(['directionY']);
    expect(paths({ action: 'start', directionX: '1', directionY: 1 })).to.deep.equal([
      'directionX',
    ]);
  });

  it('refuses bad ids and actions, naming each', () => {
    expect(paths({ action: 'jump' })).to.deep.equal(['action']);
    expect(
      paths({ action: 'stop', trainerId: 'has space', commandId: 'nope', expectedVersion: -1 }),
    ).to.deep.equal(['trainerId', 'commandId', 'expectedVersion']);
    expect(paths({ action: 'stop', trainerId: '' })).to.deep.equal(['trainerId']);
    expect(paths({ action: 'stop', trainerId: 'x'.repeat(129) })).to.deep.equal(['trainerId']);
    expect(issues({ action: 'stop', trainerId: 'x'.repeat(128) })).to.deep.equal([]);
  });

  it('describes every field for OpenRPC', () => {
    const shape = moveTrainerParams.shape;
    const undescribed = Object.entries(shape)
      .filter(([, field]) => !field.description)
      .map(([name]) => name);
    expect(undescribed).to.deep.equal([]);
  });
});
