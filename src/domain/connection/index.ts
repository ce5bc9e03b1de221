/** Seed 003's connections: their decider and events, and the two connect commands. */
export * from './connect-aws.js';
export * from './connect-github.js';
export * from './connection.js';
