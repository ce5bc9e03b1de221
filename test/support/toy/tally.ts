/**
 * A toy command, in the test tree only, to prove that adding a command is one definition file and
 * one catalogue line (`catalogue.ts` beside it): `toy.tally` adds an amount to the caller's tally.
 */
import { z } from 'zod';
import {
  type Command,
  type Decider,
  type DomainEvent,
  DomainRuleError,
  defineCommand,
  eventDecoder,
  eventSchema,
} from '../../../src/index.js';

type Tally = Command<'Tally', { readonly amount: number }>;
type Tallied = DomainEvent<'Tallied', { readonly amount: number; readonly total: number }>;

const tallyDecider: Decider<Tally, Tallied, number> = {
  initialState: () => 0,
  evolve: (_total, event) => event.data.total,
  decide: (command, total) => {
    if (total + command.data.amount > 1000) {
      throw new DomainRuleError('tally-full', 'a tally holds at most 1000');
    }
    return [
      {
        type: 'Tallied',
        data: { amount: command.data.amount, total: total + command.data.amount },
      },
    ];
  },
};

export const tally = defineCommand({
  type: 'Tally',
  method: { name: 'toy.tally', summary: "Adds an amount to the caller's tally." },
  params: z.object({
    amount: z.number().int().min(1).max(100),
    commandId: z.uuid().optional(),
  }),
  data: z.object({ amount: z.number().int() }),
  answers: ['rule'],
  toData: ({ amount }) => ({ amount }),
  streamId: (c) => `toy-${c.metadata.userId}`,
  decider: () => tallyDecider,
  decode: eventDecoder([
    eventSchema('Tallied', z.object({ amount: z.number(), total: z.number() })),
  ]),
  command: (c) => c,
  result: z.object({ total: z.number() }),
  resultOf: (_c, _events, total) => ({ total }),
  answer: z.object({ total: z.number(), version: z.number().int() }),
  answerOf: ({ total }, { version }) => ({ total, version }),
});
