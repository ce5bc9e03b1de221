/**
 * Domain: pure deciders (no I/O, no clock) with their command schemas, events, stream ids and
 * notification mappers — the trainer and message broadcasts of seed 004, the connections of
 * seed 003.
 */

export * from './connection.js';
export type {
  Command,
  CommandMetadata,
  Decider,
  DomainEvent,
  EventContext,
  NotificationMapper,
} from './decider.js';
export * from './deployment.js';
export * from './message.js';
export * from './trainer.js';
