/**
 * Domain: pure deciders (no I/O, no clock) with their events, stream ids and notification
 * mappers, and one definition per command (`defineCommand`), listed in the catalogue — the
 * trainer and message broadcasts of seed 004, the connections and deployments of seed 003.
 */

export type { Actor } from './actor.js';
export { COMMANDS } from './catalogue.js';
export * from './command-definition.js';
export * from './connection/index.js';
export * from './decider.js';
export * from './deployment/index.js';
export * from './message/index.js';
export * from './trainer/index.js';
