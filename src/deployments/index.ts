/**
 * Deployments (seed 003, SPEC.md §6–§7): `StartDeployment`, the job queue, the process manager and
 * its stage runners, and the queries over the `deployments` projection.
 */
import type { CommandHandler } from '../commands/command-bus.js';
import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { DeploymentProcessManager } from './process-manager.js';
import { loadStageScripts, ScriptRunner, SimulatedRunner, type StageRunner } from './runners.js';
import { startDeploymentHandler } from './start-handler.js';

export * from './job-queue.js';
export { DeploymentProcessManager, type ProcessManagerOptions } from './process-manager.js';
export * from './queries.js';
export * from './runners.js';
export { startDeploymentData, startDeploymentHandler } from './start-handler.js';

/** The stage runner DEPLOY_RUNNER names. */
export function runnerFor(
  config: Pick<Config, 'DEPLOY_RUNNER' | 'DEPLOY_SIM_STEP_MS' | 'DEPLOY_SCRIPT_FILE'>,
): StageRunner {
  return config.DEPLOY_RUNNER === 'script'
    ? new ScriptRunner(loadStageScripts(config.DEPLOY_SCRIPT_FILE!))
    : new SimulatedRunner(config.DEPLOY_SIM_STEP_MS);
}

/** The deployment side of an instance: its command handler and its process manager. */
export function deploymentsFor(store: EventStore, config: Config, logger: Logger) {
  const processManager = new DeploymentProcessManager({
    store,
    runner: runnerFor(config),
    serverId: config.SERVER_ID,
    stageTimeoutMs: config.DEPLOY_STAGE_TIMEOUT_MS,
    timeoutMs: config.DEPLOY_TIMEOUT_MS,
    logger,
  });
  const handlers: Record<string, CommandHandler> = {
    StartDeployment: startDeploymentHandler(store, config.DEPLOY_MAX_QUEUED),
  };
  return { processManager, handlers };
}
