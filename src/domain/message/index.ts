/** Seed 004's BroadcastMessageCommand: its decider and notifications, and its definition. */
export * from './broadcast-message.js';
export * from './message.js';
