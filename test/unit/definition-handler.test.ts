import { expect } from 'chai';
import type { AppendDecision } from '../../src/commands/decision.js';
import { definitionHandler } from '../../src/commands/definition-handler.js';
import { moveTrainer } from '../../src/domain/trainer/move-trainer.js';
import type { RecordedEvent } from '../../src/events/envelope.js';
import type { ReadStreamOptions } from '../../src/events/event-store.js';

describe('definitionHandler: its entity cache when Redis lost events (README "Guarantees" G5)', () => {
  it('folds afresh once a stream no longer holds the cached version, instead of conflicting forever', async () => {
    const stream: RecordedEvent[] = [];
    const readStream = async (_id: string, options: ReadStreamOptions = {}) => {
      const from = options.fromVersion ?? 1;
      const events = stream.slice(from - 1, from - 1 + (options.limit ?? 100));
      return { events, nextVersion: from + events.length, isEnd: true };
    };
    const handle = definitionHandler(moveTrainer, {
      store: { readStream },
      ports: { readStream, storeSecret: async () => {} },
      settings: { trainerSpeed: 1, deployMaxQueued: 10 },
    });
    const move = (n: number) => ({
      id: `c${n}`,
      type: 'MoveTrainer',
      data: { trainerId: 't0', action: 'start', direction: { x: 1, y: 0 } },
      metadata: {
        commandId: `c${n}`,
        userId: 't0',
        correlationId: `c${n}`,
        timestamp: new Date(1_000 * n).toISOString(),
      },
    });
    /** Decides move `n` and, like a commit, appends its events. */
    const decideAndCommit = async (n: number) => {
      const decision = (await handle(move(n))) as AppendDecision;
      for (const e of decision.events) {
        stream.push({
          ...e,
          id: `e${stream.length + 1}`,
          schemaVersion: 1,
          streamId: 'trainer-t0',
          version: stream.length + 1,
          globalPosition: String(stream.length + 1),
          metadata: { ...move(n).metadata },
        } as RecordedEvent);
      }
      return decision.expectedVersion;
    };
    const expected = [await decideAndCommit(1), await decideAndCommit(2), await decideAndCommit(3)];
    // decided on version 3, committed nothing yet; then Redis comes back without versions 2 and 3
    expect(((await handle(move(4))) as AppendDecision).expectedVersion).to.equal(3);
    stream.length = 1;
    // the runtime decides a conflicting command again: on what the stream now holds
    const again = [
      ((await handle(move(4))) as AppendDecision).expectedVersion,
      ((await handle(move(4))) as AppendDecision).expectedVersion,
    ];
    expect([...expected, ...again]).to.deep.equal([0, 1, 2, 1, 1]);
  });
});
