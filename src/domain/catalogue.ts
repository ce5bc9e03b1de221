/**
 * The command catalogue: every command streamcast serves, one definition each. The handlers, the
 * JSON-RPC methods, the REST routes of seed 003 and `rpc.discover` are all derived from this list.
 * Adding a command is one new definition file and one line here.
 */
import type { AnyCommandDefinition } from './command-definition.js';
import { connectAws } from './connection/connect-aws.js';
import { connectGitHub } from './connection/connect-github.js';
import { startDeployment } from './deployment/start-deployment.js';
import { broadcastMessage } from './message/broadcast-message.js';
import { moveTrainer } from './trainer/move-trainer.js';

export const COMMANDS: readonly AnyCommandDefinition[] = [
  moveTrainer,
  broadcastMessage,
  connectGitHub,
  connectAws,
  startDeployment,
];
