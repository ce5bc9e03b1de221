import type { ArchiveStatus } from '../../archive/archive-status.js';
import type { CommandBus } from '../../commands/command-bus.js';
import { CommandSender } from '../../commands/sender.js';
import type { SecretBox } from '../../connections/secret-box.js';
import { COMMANDS } from '../../domain/catalogue.js';
import type { AnyCommandDefinition } from '../../domain/command-definition.js';
import type { EventStore } from '../../events/event-store.js';
import type { NotifierStatus } from '../../events/eventstoredb/notifier-status.js';
import type { ReadModels } from '../../projections/read-models.js';

/** A live instance of the registry (`InstanceRegistry.liveEntries`). */
export interface LiveInstance {
  readonly serverId: string;
  readonly info?:
    | {
        readonly host: string;
        readonly pid: number;
        readonly port?: number;
        readonly startedAt: string;
      }
    | undefined;
}

/** What the method table is built from (wired in main.ts). */
export interface RpcServices {
  readonly serverId: string;
  readonly storeName: string;
  readonly store: EventStore;
  readonly bus: CommandBus;
  /** Queries over the projections' read models. */
  readonly readModels: ReadModels;
  /** COMMAND_TIMEOUT_MS */
  readonly commandTimeoutMs: number;
  /** Redis connection state, or undefined on the memory store. */
  redisStatus(): string | undefined;
  /** SSE sessions and distinct users connected to this instance. */
  readonly realtime?: {
    status(): { sessions: number; connectedUsers: number };
    presence(): Promise<
      readonly { serverId: string; sessions: number; users: readonly string[] }[]
    >;
  };
  /** Every live instance, cluster-wide (the Redis registry); absent on the memory store. */
  instances?(): Promise<readonly LiveInstance[]>;
  /** Commands waiting in the group and dead-lettered ones. */
  backlog(): Promise<{ readonly pending: number; readonly lag: number; readonly dead: number }>;
  /** Seals connection secrets under SECRET_KEY (`connect.*` answer -32603 without it). */
  readonly secretBox?: SecretBox;
  /** With ARCHIVE_URL: how far each partition is archived. */
  archiveStatus?(): Promise<ArchiveStatus>;
  /** With STORE=eventstoredb: how far the notifier is. */
  notifierStatus?(): Promise<NotifierStatus>;
  /** The commands served (default: the catalogue, `COMMANDS`). */
  readonly catalogue?: readonly AnyCommandDefinition[];
}

/** The commands served: the catalogue unless the services name others (tests add toy ones). */
export function catalogueOf(services: RpcServices): readonly AnyCommandDefinition[] {
  return services.catalogue ?? COMMANDS;
}

/** The typed sender of the services' commands (connection secrets sealed with their box). */
export function senderOf(services: RpcServices): CommandSender {
  return new CommandSender(services.bus, {
    timeoutMs: services.commandTimeoutMs,
    seal: (connectionId, secretsJson) => {
      if (!services.secretBox) {
        throw new Error('RpcServices.secretBox is not wired (main.ts): connections cannot be made');
      }
      return services.secretBox.seal(secretsJson, connectionId);
    },
  });
}
