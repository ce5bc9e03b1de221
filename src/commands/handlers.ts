/**
 * The handlers of every command in the catalogue, derived from their definitions, and the ports
 * their `prepare` steps use.
 */
import { assertSealed, type SealedSecret, type SecretBox } from '../connections/secret-box.js';
import { SecretConflictError, type SecretStore } from '../connections/secret-store.js';
import type { AnyCommandDefinition, CommandPorts } from '../domain/command-definition.js';
import { DomainRuleError } from '../errors.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandHandler } from './command-bus.js';
import { definitionHandler, type HandlerDeps } from './definition-handler.js';

/**
 * The ports of `prepare`: reading other streams, storing sealed connection secrets once. With
 * `box`, a redelivered connect command whose secret was re-sealed since (rotate-secrets) is no
 * conflict: the stored and the given secret are compared opened.
 */
export function commandPorts(
  store: Pick<EventStore, 'readStream'>,
  secrets: SecretStore,
  box?: SecretBox,
): CommandPorts {
  return {
    readStream: (streamId, options) => store.readStream(streamId, options),
    storeSecret: async (connectionId, sealed) => {
      assertSealed(sealed);
      try {
        await secrets.put(connectionId, sealed);
      } catch (error) {
        if (!(error instanceof SecretConflictError)) throw error;
        if (box && (await storedAlready(secrets, box, connectionId, sealed))) return;
        throw new DomainRuleError(
          'connection-exists',
          `connection ${connectionId} already exists: connect again for a new connection id`,
        );
      }
    },
  };
}

/** True when the stored secret of `connectionId` opens to the same text as `sealed`. */
async function storedAlready(
  secrets: SecretStore,
  box: SecretBox,
  connectionId: string,
  sealed: SealedSecret,
): Promise<boolean> {
  const stored = await secrets.get(connectionId);
  try {
    return (
      stored !== undefined && box.open(stored, connectionId) === box.open(sealed, connectionId)
    );
  } catch {
    return false; // either does not open here: a real conflict
  }
}

/** The handler of every command of `commands`, by command type. */
export function catalogueHandlers(
  commands: readonly AnyCommandDefinition[],
  deps: HandlerDeps,
): Record<string, CommandHandler> {
  const handlers: Record<string, CommandHandler> = {};
  for (const definition of commands) {
    if (handlers[definition.type]) throw new Error(`command ${definition.type} is defined twice`);
    handlers[definition.type] = definitionHandler(definition, deps);
  }
  return handlers;
}
