/** The catalogue with the toy command added: one line. */
import { COMMANDS } from '../../../src/index.js';
import { tally } from './tally.js';

export const TOY_COMMANDS = [...COMMANDS, tally];
