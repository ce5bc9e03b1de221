import { expect } from 'chai';
import type { Command, Decider, DomainEvent } from '../../src/domain/decider.js';

/** A class of errors (`DomainRuleError`, `ValidationError`, …). */
type ErrorClass<X extends Error> = abstract new (...args: never[]) => X;

/** What `when(command)` offers: the expected events, or the expected error. */
export interface DeciderThen<E extends DomainEvent> {
  /** The decider decides exactly these events (deep equality, in order). */
  then(expected: readonly E[]): void;
  /** The decider throws an instance of `type`; when given, `predicate` must hold for it. */
  thenThrows<X extends Error>(type: ErrorClass<X>, predicate?: (error: X) => boolean): X;
}

/** Given past events, when a command, then events or an error. */
export type DeciderSpecification<C extends Command, E extends DomainEvent> = (
  given: readonly E[],
) => { when(command: C): DeciderThen<E> };

/**
 * emmett's `DeciderSpecification.for`: folds the given events over the initial state with
 * `evolve`, runs `decide` with the command, and checks what comes out.
 */
export function deciderSpecification<C extends Command, E extends DomainEvent, S>(
  decider: Decider<C, E, S>,
): DeciderSpecification<C, E> {
  return (given) => ({
    when: (command) => {
      const run = () =>
        decider.decide(
          command,
          given.reduce((state, event) => decider.evolve(state, event), decider.initialState()),
        );
      return {
        // biome-ignore lint/suspicious/noThenProperty: emmett's given/when/then names; never awaited
        then: (expected) => {
          expect(run()).to.deep.equal(expected);
        },
        thenThrows: (type, predicate) => {
          let decided: readonly E[] | undefined;
          try {
            decided = run();
          } catch (error) {
            expect(error, `expected ${type.name}, got ${String(error)}`).to.be.instanceOf(type);
            const thrown = error as Parameters<NonNullable<typeof predicate>>[0];
            if (predicate) {
              expect(predicate(thrown), `${String(error)} does not match the predicate`).to.equal(
                true,
              );
            }
            return thrown;
          }
          return expect.fail(`expected ${type.name}, but decided ${JSON.stringify(decided)}`);
        },
      };
    },
  });
}
