/**
 * Deployments (seed 003, SPEC.md §6–§7): the job queue, the process manager and its stage runners,
 * and the queries over the `deployments` projection. (Starting one is a command defined in
 * `domain/deployment`.)
 */
import type { CommandRuntime } from '../commands/runtime.js';
import type { Config } from '../config.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { DeploymentProcessManager } from './process-manager.js';
import { loadStageScripts, ScriptRunner, SimulatedRunner, type StageRunner } from './runners.js';

export * from './job-queue.js';
export { DeploymentProcessManager, type ProcessManagerOptions } from './process-manager.js';
export * from './queries.js';
export * from './runners.js';

/** The stage runner DEPLOY_RUNNER names. */
export function runnerFor(
  config: Pick<Config, 'DEPLOY_RUNNER' | 'DEPLOY_SIM_STEP_MS' | 'DEPLOY_SCRIPT_FILE'>,
): StageRunner {
  return config.DEPLOY_RUNNER === 'script'
    ? new ScriptRunner(loadStageScripts(config.DEPLOY_SCRIPT_FILE!))
    : new SimulatedRunner(config.DEPLOY_SIM_STEP_MS);
}

/** The deployment process manager of an instance. */
export function processManagerFor(
  store: Pick<EventStore, 'readStream'>,
  runtime: CommandRuntime,
  config: Config,
  logger: Logger,
): DeploymentProcessManager {
  return new DeploymentProcessManager({
    store,
    runtime,
    runner: runnerFor(config),
    serverId: config.SERVER_ID,
    stageTimeoutMs: config.DEPLOY_STAGE_TIMEOUT_MS,
    timeoutMs: config.DEPLOY_TIMEOUT_MS,
    logger,
  });
}
