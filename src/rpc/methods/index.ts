import type { RpcMethod } from '../method.js';
import { discoverMethod } from '../openrpc.js';
import { commandMethod } from './command-method.js';
import { commandMethods } from './commands.js';
import { deploymentMethods } from './deployments.js';
import { eventMethods } from './events.js';
import { operatorMethods } from './operator.js';
import { catalogueOf, type RpcServices, senderOf } from './services.js';
import { systemMethods } from './system.js';
import { trainerQueryMethods } from './trainer-queries.js';

export type { RpcServices } from './services.js';

/** The area of a method name (`trainer` of `trainer.move`). */
const areaOf = (method: RpcMethod) => method.name.split('.')[0] ?? '';

/** The methods grouped by area, areas in the order they first appear (commands first). */
function byArea(methods: readonly RpcMethod[]): RpcMethod[] {
  const areas = [...new Set(methods.map(areaOf))];
  return areas.flatMap((area) => methods.filter((m) => areaOf(m) === area));
}

/**
 * Every JSON-RPC method an instance serves: one per command of the catalogue, then the queries,
 * grouped by area; `rpc.discover` last (its document lists itself).
 */
export function rpcMethods(services: RpcServices, version: string): RpcMethod[] {
  const sender = senderOf(services);
  const methods = byArea([
    ...catalogueOf(services).map((definition) => commandMethod(definition, sender)),
    ...trainerQueryMethods(services),
    ...deploymentMethods(services),
    ...eventMethods(services),
    ...commandMethods(services),
    ...systemMethods(services),
    ...operatorMethods(services),
  ]);
  return [...methods, discoverMethod(methods, { title: 'streamcast', version })];
}
