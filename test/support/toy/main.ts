/** An instance serving the toy catalogue (started by tests like `src/main.ts`). */
import { main } from '../../../src/main.js';
import { TOY_COMMANDS } from './catalogue.js';

await main(TOY_COMMANDS);
