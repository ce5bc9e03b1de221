import { expect } from 'chai';
import {
  type CommandEnvelope,
  CommandRuntime,
  catalogueHandlers,
  commandPorts,
  DEFAULT_STORE_SETTINGS,
  DomainRuleError,
  errorOfOutcome,
  MemoryEventStore,
  MemorySecretStore,
  moveTrainer,
} from '../../src/index.js';

const store = () => new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });

/** One instance's MoveTrainer handling (its own entity cache) through the runtime; answers throw. */
function instanceOn(s: MemoryEventStore): (c: CommandEnvelope) => Promise<void> {
  const handler = catalogueHandlers([moveTrainer], {
    store: s,
    ports: commandPorts(s, new MemorySecretStore()),
    settings: { trainerSpeed: 5, deployMaxQueued: 100 },
  }).MoveTrainer!;
  const runtime = new CommandRuntime(s);
  return async (c) => {
    const outcome = await runtime.handle(handler, c);
    if (outcome.kind !== 'appended') throw errorOfOutcome(c.id, outcome);
  };
}
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const move = (action: 'start' | 'stop', expectedVersion?: number | 'exists'): CommandEnvelope => {
  clock += 1000;
  const id = crypto.randomUUID();
  return {
    id,
    type: 'MoveTrainer',
    data: {
      trainerId: 'ash',
      action,
      direction: { x: 1, y: 0 },
      ...(expectedVersion !== undefined ? { expectedVersion } : {}),
    },
    metadata: {
      commandId: id,
      userId: 'ash',
      correlationId: id,
      timestamp: new Date(clock).toISOString(),
    },
  };
};

describe('decider runtime: two instances with their own entity caches on one store', () => {
  it('does not answer from a stale cache: a refusal on cached state is decided again on the stored one', async () => {
    const s = store();
    const a = instanceOn(s);
    const b = instanceOn(s);
    await a(move('start'));
    await a(move('stop')); // a caches: standing
    await b(move('start')); // b moves it; a's cache is now stale
    await a(move('stop')); // a's cache says "not moving": must not be the answer
    const page = await s.readStream('trainer-ash');
    expect(page.events.map((e) => (e.data as { action: string }).action)).to.deep.equal([
      'start',
      'stop',
      'start',
      'stop',
    ]);
    expect(page.events.map((e) => e.version)).to.deep.equal([1, 2, 3, 4]);
  });

  it('refuses on the stored state even when the cache would accept', async () => {
    const s = store();
    const a = instanceOn(s);
    const b = instanceOn(s);
    await a(move('start')); // a caches: moving
    await b(move('stop')); // now standing
    try {
      await a(move('stop'));
      expect.fail('stop while standing must be refused');
    } catch (error) {
      expect(error).to.be.instanceOf(DomainRuleError);
    }
    expect((await s.readStream('trainer-ash')).events).to.have.length(2);
  });

  it("checks a client's expectedVersion against the stored version, not a cached one", async () => {
    const s = store();
    const a = instanceOn(s);
    const b = instanceOn(s);
    await a(move('start', 0));
    await b(move('start', 1));
    await a(move('start', 2)); // a's cache says 1; the store says 2
    expect((await s.readStream('trainer-ash')).events.map((e) => e.version)).to.deep.equal([
      1, 2, 3,
    ]);
  });
});
