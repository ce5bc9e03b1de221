/**
 * Runs one deployment to its end (DESIGN.md §7 "Deployments"): claims it with `RunnerClaimed`,
 * runs its first unfinished stage onwards, and records every step with the stream's expected
 * version and a step key, so a zombie runner's writes fail and a re-run step is recorded once.
 * Stage and overall timeouts count from the stage's first event and from `startedAt`.
 */
import {
  type DeploymentSpec,
  type DeploymentState,
  deploymentStreamId,
  evolveDeployment,
  NO_DEPLOYMENT,
  resultOf,
  STAGE_ERROR_CODES,
  STAGES,
  type StageStep,
  TIMEOUT_CODE,
} from '../domain/deployment.js';
import { ConcurrencyError } from '../errors.js';
import type { Json, NotificationRecord } from '../events/envelope.js';
import type { EventStore } from '../events/event-store.js';
import type { Logger } from '../log.js';
import { StageFailure, type StageRunner } from './runners.js';

export interface ProcessManagerOptions {
  readonly store: EventStore;
  readonly runner: StageRunner;
  readonly serverId: string;
  /** DEPLOY_STAGE_TIMEOUT_MS */
  readonly stageTimeoutMs: number;
  /** DEPLOY_TIMEOUT_MS */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Another runner claimed the deployment after us: we are the zombie and stop. */
class Superseded extends Error {}

export class DeploymentProcessManager {
  constructor(private readonly options: ProcessManagerOptions) {}

  /** Loads a deployment's state from its stream. */
  load(deploymentId: string): Promise<DeploymentState> {
    return catchUp(this.options.store, deploymentId, NO_DEPLOYMENT);
  }

  /** Fails a deployment whose job could not be run (every attempt failed): UNEXPECTED_ERROR. */
  async abandon(deploymentId: string, reason: string): Promise<void> {
    const state = await this.load(deploymentId);
    if (!state.spec || state.status === 'COMPLETED' || state.status === 'FAILED') return;
    await this.options.store.append(
      deploymentStreamId(deploymentId),
      [
        {
          type: 'DeploymentFailed',
          data: {
            deploymentId,
            stage: Math.min(6, state.stagesDone + 1),
            errorCode: 'UNEXPECTED_ERROR',
            errorMessage: `Unexpected error: ${reason}`,
            completedAt: new Date().toISOString(),
          },
        },
      ],
      { expectedVersion: state.version, idempotencyKey: `${deploymentId}/abandoned` },
    );
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
    return this.state.spec!;
  }

  async toEnd(): Promise<void> {
    if (!this.state.spec)
      throw new Error(`deployment ${this.deploymentId} has no DeploymentStarted event`);
    if (this.state.status === 'COMPLETED' || this.state.status === 'FAILED') return;
    this.attempt = this.state.attempt + 1;
    await this.record(`claim/${this.attempt}`, 'RunnerClaimed', {
      deploymentId: this.deploymentId,
      attempt: this.attempt,
      serverId: this.options.serverId,
    });
    let fields: Record<string, Json> = {};
    for (const stage of STAGES) {
      if (stage <= this.state.stagesDone) continue;
      const outcome = await this.runStage(stage);
      if (outcome === 'failed') return;
      fields = { ...fields, ...outcome };
    }
    await this.finish({ ...this.state.fields, ...fields });
  }

  private async runStage(stage: number): Promise<Record<string, Json> | 'failed'> {
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
      await this.record(`${stage}/done`, 'StageCompleted', {
        deploymentId: this.deploymentId,
        stage,
        fields,
      });
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
        await this.fail(
          stage,
          'UNEXPECTED_ERROR',
          `Unexpected error: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return 'failed';
    }
  }

  private progress(stage: number, step: number, s: StageStep): Promise<void> {
    const details = { stage, ...s.details };
    return this.record(
      `${stage}/${step}`,
      'StageProgressed',
      {
        deploymentId: this.deploymentId,
        stage,
        step,
        message: s.message,
        details,
      },
      this.notify('deployment.stage', {
        deploymentId: this.deploymentId,
        type: 'stage',
        message: s.message,
        details,
      }),
    );
  }

  private async finish(fields: Record<string, Json>): Promise<void> {
    const completedAt = new Date().toISOString();
    const data = { deploymentId: this.deploymentId, completedAt, result: fields };
    const result = this.resultAfter('DeploymentCompleted', data);
    await this.record(
      'completed',
      'DeploymentCompleted',
      { ...data, result },
      this.notify('deployment.done', {
        deploymentId: this.deploymentId,
        message: 'Deployment completed successfully',
        result,
      }),
    );
  }

  private async fail(stage: number, errorCode: string, errorMessage: string): Promise<void> {
    const data = {
      deploymentId: this.deploymentId,
      stage,
      errorCode,
      errorMessage,
      completedAt: new Date().toISOString(),
    };
    await this.record(
      'failed',
      'DeploymentFailed',
      { ...data, result: this.resultAfter('DeploymentFailed', data) },
      this.notify('deployment.failed', {
        deploymentId: this.deploymentId,
        stage,
        errorCode,
        message: `Deployment failed: ${errorMessage}`,
      }),
    );
  }

  /** The result object as it will read once the final event is recorded (it counts too). */
  private resultAfter(type: string, data: Record<string, Json>): Record<string, Json> {
    const timestamp = String(data.completedAt);
    return resultOf(evolveDeployment(this.state, { type, data, metadata: { timestamp } }));
  }

  private notify(method: string, params: Record<string, Json>): NotificationRecord[] {
    return [
      {
        method,
        params,
        target: 'user',
        targetIds: [this.spec.userId],
        topic: `deployment.${this.deploymentId}`,
      },
    ];
  }

  /**
   * Appends one event with the expected version and the step key `<id>/<step>`. A step recorded
   * before (a re-run stage) is skipped; a newer claim by another runner stops this one.
   */
  private async record(
    step: string,
    type: string,
    data: Record<string, Json>,
    notifications: NotificationRecord[] = [],
  ): Promise<void> {
    const streamId = deploymentStreamId(this.deploymentId);
    for (;;) {
      try {
        const appended = await this.options.store.append(streamId, [{ type, data }], {
          expectedVersion: this.state.version,
          idempotencyKey: `${this.deploymentId}/${step}`,
          notifications,
          metadata: {
            correlationId: this.deploymentId,
            causationId: this.deploymentId,
            userId: this.spec.userId,
          },
        });
        if (appended.duplicate) {
          this.state = await this.reload();
          return;
        }
        this.state = appended.events.reduce(evolveDeployment, this.state);
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        this.state = await this.reload();
        if (this.state.attempt > this.attempt && this.attempt > 0) throw new Superseded();
        if (this.state.status === 'COMPLETED' || this.state.status === 'FAILED')
          throw new Superseded();
      }
    }
  }

  private reload(): Promise<DeploymentState> {
    return catchUp(this.options.store, this.deploymentId, this.state);
  }
}

/** Folds the events of a deployment's stream after `state` into it. */
async function catchUp(
  store: EventStore,
  deploymentId: string,
  from: DeploymentState,
): Promise<DeploymentState> {
  let state = from;
  for (;;) {
    const page = await store.readStream(deploymentStreamId(deploymentId), {
      fromVersion: state.version + 1,
      limit: 1000,
    });
    for (const e of page.events) state = evolveDeployment(state, e);
    if (page.isEnd) return state;
  }
}
