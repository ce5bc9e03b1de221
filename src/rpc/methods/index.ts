import type { RpcMethod } from '../method.js';
import { discoverMethod } from '../openrpc.js';
import { commandMethods } from './commands.js';
import { connectionMethods } from './connections.js';
import { deploymentMethods } from './deployments.js';
import { eventMethods } from './events.js';
import { messageMethods } from './message.js';
import type { RpcServices } from './services.js';
import { systemMethods } from './system.js';
import { trainerMethods } from './trainer.js';
import { trainerQueryMethods } from './trainer-queries.js';

export type { RpcServices } from './services.js';

/** Every JSON-RPC method an instance serves, `rpc.discover` last (its document lists itself). */
export function rpcMethods(services: RpcServices, version: string): RpcMethod[] {
  const methods = [
    ...trainerMethods(services),
    ...trainerQueryMethods(services),
    ...messageMethods(services),
    ...connectionMethods(services),
    ...deploymentMethods(services),
    ...eventMethods(services),
    ...commandMethods(services),
    ...systemMethods(services),
  ];
  return [...methods, discoverMethod(methods, { title: 'streamcast', version })];
}
