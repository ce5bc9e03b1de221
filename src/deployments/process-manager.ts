/**
 * Runs one deployment to its end (DESIGN.md §7 "Deployments"): claims it with `RunnerClaimed`,
 * runs its first unfinished stage onwards, and records every step as a command of the deployment
 * decider, committed by the one runtime with the stream's expected version and a step key, so a
 * zombie runner's writes fail and a re-run step is recorded once. Stage and overall timeouts count
 * from the stage's first event and from `startedAt`.
 */

import { catchUp } from '../commands/entity.js';
import type { CommandRuntime } from '../commands/runtime.js';
import type { CommandMetadata } from '../domain/decider.js';
import {
  type DeploymentCommand,
  type DeploymentSpec,
  type DeploymentState,
  decodeDeploymentEvent,
  deploymentDecider,
  deploymentNotifications,
  deploymentStreamId,
  type Fields,
  isFinished,
  NO_DEPLOYMENT,
  STAGE_ERROR_CODES,
  STAGES,
  type StageStep,
  TIMEOUT_CODE,
} from '../domain/deployment/deployment.js';
import { DomainRuleError } from '../errors.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { StageFailure, type StageRunner } from './runners.js';

export interface ProcessManagerOptions {
  /** Reads the deployment's stream. */
  readonly store: Pick<EventStore, 'readStream'>;
  /** Commits the steps. */
  readonly runtime: CommandRuntime;
  readonly runner: StageRunner;
  readonly serverId: string;
  /** DEPLOY_STAGE_TIMEOUT_MS */
  readonly stageTimeoutMs: number;
  /** DEPLOY_TIMEOUT_MS */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Another runner claimed the deployment after us, or it ended: we are the zombie and stop. */
class Superseded extends Error {}

const fold = { evolve: deploymentDecider.evolve, decode: decodeDeploymentEvent };

/** Loads a deployment's state from its stream (after `from`, when given). */
function loadDeployment(
  store: Pick<EventStore, 'readStream'>,
  deploymentId: string,
  from: DeploymentState = NO_DEPLOYMENT,
): Promise<DeploymentState> {
  const streamId = deploymentStreamId(deploymentId);
  return catchUp(store, fold, streamId, { state: from, version: from.version }).then(
    (entity) => entity.state,
  );
}

export class DeploymentProcessManager {
  constructor(private readonly options: ProcessManagerOptions) {}

  /** Loads a deployment's state from its stream. */
  load(deploymentId: string): Promise<DeploymentState> {
    return loadDeployment(this.options.store, deploymentId);
  }

  /** Fails a deployment whose job could not be run (every attempt failed): UNEXPECTED_ERROR. */
  async abandon(deploymentId: string, reason: string): Promise<void> {
    const run = new Run(this.options, deploymentId, await this.load(deploymentId));
    await run.abandon(reason).catch((error: unknown) => {
      if (!(error instanceof Superseded)) throw error;
    });
  }

  /** Runs the deployment from its first unfinished stage to COMPLETED or FAILED. */
  async run(deploymentId: string): Promise<void> {
    const run = new Run(this.options, deploymentId, await this.load(deploymentId));
    try {
      await run.toEnd();
    } catch (error) {
      if (!(error instanceof Superseded)) throw error;
      this.options.logger.warn(
        `deployment ${deploymentId}: another runner took it over; stopping`,
        {
          deploymentId,
        },
      );
    }
  }
}

/** One runner's attempt at one deployment. */
class Run {
  private attempt = 0;

  constructor(
    private readonly options: ProcessManagerOptions,
    private readonly deploymentId: string,
    private state: DeploymentState,
  ) {}

  private get spec(): DeploymentSpec {
    const { spec } = this.state;
    if (!spec) throw new Error(`deployment ${this.deploymentId} has no DeploymentStarted event`);
    return spec;
  }

  async toEnd(): Promise<void> {
    const { serverId } = this.options;
    if (isFinished(this.state) || !this.spec) return;
    const attempt = this.state.attempt + 1;
    this.attempt = attempt;
    await this.step(`claim/${attempt}`, (metadata) => ({
      type: 'ClaimRunner',
      data: { attempt, serverId },
      metadata,
    }));
    let fields: Fields = {};
    for (const stage of STAGES) {
      if (stage <= this.state.stagesDone) continue;
      const outcome = await this.runStage(stage);
      if (outcome === 'failed') return;
      fields = { ...fields, ...outcome };
    }
    await this.step('completed', (metadata) => ({
      type: 'CompleteDeployment',
      data: { fields },
      metadata,
    }));
  }

  async abandon(reason: string): Promise<void> {
    if (!this.state.spec || isFinished(this.state)) return;
    const stage = Math.min(6, this.state.stagesDone + 1);
    const errorMessage = `Unexpected error: ${reason}`;
    await this.step('abandoned', (metadata) => ({
      type: 'FailDeployment',
      data: { stage, errorCode: 'UNEXPECTED_ERROR', errorMessage, withResult: false },
      metadata,
    }));
  }

  private async runStage(stage: number): Promise<Fields | 'failed'> {
    const { runner, stageTimeoutMs, timeoutMs } = this.options;
    const stageStart = Date.parse(this.state.stageStartedAt[stage] ?? new Date().toISOString());
    const overall = Date.parse(this.spec.startedAt) + timeoutMs;
    const deadline = Math.min(stageStart + stageTimeoutMs, overall);
    const signal = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
    let step = 0;
    try {
      const fields = await runner.run(stage, this.spec, {
        signal,
        progress: (s) => this.progress(stage, ++step, s),
      });
      await this.step(`${stage}/done`, (metadata) => ({
        type: 'CompleteStage',
        data: { stage, fields },
        metadata,
      }));
      return fields;
    } catch (error) {
      if (error instanceof Superseded) throw error;
      if (signal.aborted) {
        const seconds = Math.round((Date.now() - Date.parse(this.spec.startedAt)) / 1000);
        const limit = Math.round((deadline === overall ? timeoutMs : stageTimeoutMs) / 1000);
        await this.fail(
          stage,
          TIMEOUT_CODE,
          `Deployment timed out at Stage ${stage} after ${seconds} seconds (timeout: ${limit} seconds)`,
        );
      } else if (error instanceof StageFailure) {
        await this.fail(stage, STAGE_ERROR_CODES[stage]!, error.message);
      } else {
        this.options.logger.error(`deployment ${this.deploymentId}: stage ${stage} threw`, {
          error: String(error),
        });
        const message = error instanceof Error ? error.message : String(error);
        await this.fail(stage, 'UNEXPECTED_ERROR', `Unexpected error: ${message}`);
      }
      return 'failed';
    }
  }

  private progress(stage: number, step: number, s: StageStep): Promise<void> {
    const details = { stage, ...s.details };
    return this.step(`${stage}/${step}`, (metadata) => ({
      type: 'RecordProgress',
      data: { stage, step, message: s.message, details },
      metadata,
    }));
  }

  private fail(stage: number, errorCode: string, errorMessage: string): Promise<void> {
    return this.step('failed', (metadata) => ({
      type: 'FailDeployment',
      data: { stage, errorCode, errorMessage, withResult: true },
      metadata,
    }));
  }

  /**
   * Decides one step on the current state and commits it with the expected version and the step
   * key `<id>/<step>`. A step recorded before (a re-run stage) is skipped; a conflict reloads the
   * state and decides again, unless a newer claim by another runner (or the deployment's end)
   * means this run is the zombie: then it stops.
   */
  private async step(
    key: string,
    command: (metadata: CommandMetadata) => DeploymentCommand,
  ): Promise<void> {
    const streamId = deploymentStreamId(this.deploymentId);
    const idempotencyKey = `${this.deploymentId}/${key}`;
    for (;;) {
      const metadata = this.metadataOf(idempotencyKey);
      let events: ReturnType<typeof deploymentDecider.decide>;
      try {
        events = deploymentDecider.decide(command(metadata), this.state);
      } catch (error) {
        if (error instanceof DomainRuleError) throw new Superseded(error.message);
        throw error;
      }
      const committed = await this.options.runtime.commit(
        {
          kind: 'append',
          streamId,
          expectedVersion: this.state.version,
          expectedByClient: false,
          events,
          notifications: this.notificationsOf(events, metadata.timestamp),
          result: null,
        },
        {
          key: idempotencyKey,
          metadata: {
            correlationId: this.deploymentId,
            causationId: this.deploymentId,
            userId: this.spec.userId,
            timestamp: metadata.timestamp,
          },
        },
      );
      if (committed.status === 'conflict') {
        this.state = await loadDeployment(this.options.store, this.deploymentId, this.state);
        if (this.attempt > 0 && this.state.attempt > this.attempt) throw new Superseded();
        if (isFinished(this.state)) throw new Superseded();
        continue;
      }
      this.state = await loadDeployment(this.options.store, this.deploymentId, this.state);
      return;
    }
  }

  /** The step's notifications, each with the state after its event. */
  private notificationsOf(events: ReturnType<typeof deploymentDecider.decide>, timestamp: string) {
    let state = this.state;
    return events.flatMap((event, i) => {
      state = deploymentDecider.evolve(state, { ...event, metadata: { timestamp } });
      const context = {
        streamId: deploymentStreamId(this.deploymentId),
        version: this.state.version + 1 + i,
        timestamp,
      };
      return deploymentNotifications(event, context, state);
    });
  }

  private metadataOf(key: string): CommandMetadata {
    return {
      commandId: key,
      userId: this.spec.userId,
      correlationId: this.deploymentId,
      timestamp: new Date().toISOString(),
    };
  }
}
