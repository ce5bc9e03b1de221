import type { CommandSender } from '../../commands/sender.js';
import type { AnyCommandDefinition } from '../../domain/command-definition.js';
import { ANSWER_CODES, COMMAND_PATH_CODES } from '../../error-codes.js';
import { defineMethod, type RpcMethod } from '../method.js';

/**
 * The JSON-RPC method of a defined command (SPEC.md §4): its name, summary, params, answer and
 * error codes all come from the definition; the handler sends it and answers its typed answer.
 */
export function commandMethod(definition: AnyCommandDefinition, sender: CommandSender): RpcMethod {
  const { name, summary, description, auth } = definition.method;
  return defineMethod({
    name,
    summary,
    ...(description ? { description } : {}),
    auth: auth ?? 'user',
    params: definition.params,
    result: definition.answer,
    errors: [...definition.answers.map((kind) => ANSWER_CODES[kind]), ...COMMAND_PATH_CODES],
    handler: (params, ctx) =>
      sender.send(definition, params, {
        actor: ctx.user,
        correlationId: ctx.correlationId,
        ...(ctx.trace ? { trace: ctx.trace } : {}),
      }),
  });
}
