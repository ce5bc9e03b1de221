/** The trainer of seed 004: its decider, events and notifications, and its move command. */
export * from './move-trainer.js';
export * from './trainer.js';
