/** Seed 003's deployments: their decider, events and notifications, and the start command. */
export * from './deployment.js';
export * from './start-deployment.js';
