import { expect } from 'chai';
import type { Command, Decider, DomainEvent } from '../../src/domain/decider.js';

/**
 * Given/when/then for deciders (emmett's DeciderSpecification): given past events, when a
 * command, then these events, or then this error.
 */
export function givenDecider<C extends Command, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
) {
  return (given: readonly E[]) => ({
    when: (command: C) => {
      const run = () =>
        decider.decide(command, given.reduce(decider.evolve, decider.initialState()));
      return {
        then: (expected: readonly E[]) => expect(run()).to.deep.equal(expected),
        thenThrows: <X extends Error>(
          type: new (...args: never[]) => X,
          check?: (error: X) => void,
        ) => {
          let thrown: unknown;
          try {
            run();
          } catch (error) {
            thrown = error;
          }
          expect(thrown, `expected ${type.name}`).to.be.instanceOf(type);
          check?.(thrown as X);
        },
      };
    },
  });
}
