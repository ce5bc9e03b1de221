/**
 * Handlers of `ConnectGitHub` and `ConnectAws`. The command on the bus carries the connection's
 * secrets sealed by the instance that received them (never in plain); the handler stores that
 * ciphertext in the `SecretStore` first, then appends the connection's event, so an event always
 * finds its secrets. A redelivery stores the same ciphertext again (a no-op) and the append's
 * idempotency key answers it with the first result.
 */
import { z } from 'zod';
import { isSealed, type SealedSecret } from '../connections/secret-box.js';
import { SecretConflictError, type SecretStore } from '../connections/secret-store.js';
import {
  type ConnectAws,
  type ConnectGitHub,
  type ConnectionCommand,
  connectionDecider,
  connectionStreamId,
  connectResult,
  validateConnectionCommand,
} from '../domain/connection.js';
import { validationErrorFromZod } from '../error-codes.js';
import { DomainRuleError } from '../errors.js';
import type { EventStore } from '../events/event-store.js';
import type { CommandEnvelope, CommandHandler } from './command-bus.js';
import { deciderHandler } from './decider-handler.js';

const sealed = z
  .string()
  .refine(isSealed, 'must be a sealed secret (v1.<keyId>.<iv>.<data>.<tag>)');

/** `ConnectGitHub` as it travels on the bus: non-secret fields and the sealed token. */
export const connectGitHubData = z.object({
  connectionId: z.string(),
  owner: z.string(),
  repo: z.string(),
  branch: z.string(),
  sealed,
});

/** `ConnectAws` as it travels on the bus: non-secret fields and the sealed credentials. */
export const connectAwsData = z.object({
  connectionId: z.string(),
  region: z.string(),
  accessKeyIdMasked: z.string(),
  hasSessionToken: z.boolean(),
  sealed,
});

/** A bus envelope read as the decider's command plus the sealed secrets it carries. */
type Received<C extends ConnectionCommand> = { readonly command: C; readonly sealed: SealedSecret };

function receiveGitHub(envelope: CommandEnvelope): Received<ConnectGitHub> {
  const parsed = connectGitHubData.safeParse(envelope.data);
  if (!parsed.success) throw validationErrorFromZod(`ConnectGitHub ${envelope.id}`, parsed.error);
  const { sealed: secret, connectionId, owner, repo, branch } = parsed.data;
  const data = { connectionId, owner, repo, branch };
  const command: ConnectGitHub = { type: 'ConnectGitHub', data, metadata: envelope.metadata };
  return { command, sealed: secret as SealedSecret };
}

function receiveAws(envelope: CommandEnvelope): Received<ConnectAws> {
  const parsed = connectAwsData.safeParse(envelope.data);
  if (!parsed.success) throw validationErrorFromZod(`ConnectAws ${envelope.id}`, parsed.error);
  const { sealed: secret, connectionId, region, accessKeyIdMasked, hasSessionToken } = parsed.data;
  const data = { connectionId, region, accessKeyIdMasked, hasSessionToken };
  const command: ConnectAws = { type: 'ConnectAws', data, metadata: envelope.metadata };
  return { command, sealed: secret as SealedSecret };
}

/**
 * The handler of one connection command: validates it whole (nothing is stored for a bad one),
 * stores its sealed secrets (written once per connection id), then decides and appends.
 */
function connectHandler<C extends ConnectionCommand>(
  store: EventStore,
  secrets: SecretStore,
  receive: (envelope: CommandEnvelope) => Received<C>,
): CommandHandler {
  const append = deciderHandler(store, {
    decider: connectionDecider,
    toCommand: (envelope) => receive(envelope).command,
    streamId: (command) => connectionStreamId(command.data.connectionId),
    result: (command) => connectResult(command),
  });
  return async (envelope) => {
    const { command, sealed: secret } = receive(envelope);
    validateConnectionCommand(command);
    try {
      await secrets.put(command.data.connectionId, secret);
    } catch (error) {
      if (!(error instanceof SecretConflictError)) throw error;
      throw new DomainRuleError(
        'connection-exists',
        `connection ${command.data.connectionId} already exists: connect again for a new connection id`,
      );
    }
    try {
      await append(envelope);
    } catch (error) {
      // a redelivery of a command already handled finds its own connection: the first outcome stands
      const handled = error instanceof DomainRuleError && (await store.getOutcome(envelope.id));
      if (handled && handled.kind === 'appended') return;
      throw error;
    }
  };
}

/** The handlers of `ConnectGitHub` and `ConnectAws`, by command type. */
export function connectionHandlers(
  store: EventStore,
  secrets: SecretStore,
): Record<string, CommandHandler> {
  return {
    ConnectGitHub: connectHandler(store, secrets, receiveGitHub),
    ConnectAws: connectHandler(store, secrets, receiveAws),
  };
}
