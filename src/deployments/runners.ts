/**
 * Stage runners (SPEC.md §7): `simulated` (no outside calls; `fail-at-stage-N` and `slow-stage-N`
 * repos for tests) and `script` (a shell command per stage from the server's own configuration).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parse as parseYaml } from 'yaml';
import {
  type DeploymentSpec,
  type StageStep,
  simulatedResult,
  stageSteps,
} from '../domain/deployment/deployment.js';
import type { Json } from '../events/envelope.js';

/** A stage that failed for a reason of its own (its stage's error code applies). */
export class StageFailure extends Error {}

/** What a runner gets for one stage. */
export interface StageContext {
  /** Aborted at the stage's (or the whole deployment's) deadline. */
  readonly signal: AbortSignal;
  /** Records one progress step (in order; a re-run stage reports its steps again). */
  progress(step: StageStep): Promise<void>;
}

export interface StageRunner {
  /** Runs `stage`; resolves with result fields it sets, throws `StageFailure` to fail it. */
  run(stage: number, spec: DeploymentSpec, ctx: StageContext): Promise<Record<string, Json>>;
}

const FAILURES: Readonly<Record<number, string>> = {
  1: 'Docker build failed: Dockerfile not found in repository',
  2: 'ECR push failed: the registry refused the image',
  3: 'ECS deployment failed: the service did not reach a steady state',
  4: 'CodeDeploy failed: the Blue/Green deployment was rolled back',
  5: 'Health check failed: the Green service did not pass its checks',
  6: 'Unexpected error: the deployment could not be finalised',
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** The simulated runner: each step takes `stepMs` (DEPLOY_SIM_STEP_MS). */
export class SimulatedRunner implements StageRunner {
  constructor(private readonly stepMs: number) {}

  async run(stage: number, spec: DeploymentSpec, ctx: StageContext): Promise<Record<string, Json>> {
    const steps = stageSteps(stage, spec);
    for (const [i, step] of steps.entries()) {
      await sleep(this.stepMs, ctx.signal);
      if (spec.repo === `slow-stage-${stage}`) await sleep(2 ** 31 - 1, ctx.signal); // outlasts any timeout
      await ctx.progress(step);
      if (i === 0 && spec.repo === `fail-at-stage-${stage}`)
        throw new StageFailure(FAILURES[stage]!);
    }
    return stage === 6 ? simulatedResult(spec) : {};
  }
}

/** Reads DEPLOY_SCRIPT_FILE: a YAML map of stage (1-6) to a shell command. */
export function loadStageScripts(file: string): Record<number, string> {
  const parsed = parseYaml(readFileSync(file, 'utf8')) as unknown;
  if (!parsed || typeof parsed !== 'object')
    throw new Error(`${file}: expected a map of stage 1-6 to a shell command`);
  const scripts: Record<number, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const stage = Number(key);
    if (!Number.isInteger(stage) || stage < 1 || stage > 6 || typeof value !== 'string') {
      throw new Error(`${file}: "${key}" must be a stage 1-6 mapped to a shell command string`);
    }
    scripts[stage] = value;
  }
  return scripts;
}

/**
 * The script runner: runs the stage's command with the deployment's fields in its environment;
 * every output line is a progress step, `::set <field>=<value>` sets a result field, a non-zero
 * exit fails the stage, the deadline kills it.
 */
export class ScriptRunner implements StageRunner {
  constructor(private readonly scripts: Readonly<Record<number, string>>) {}

  async run(stage: number, spec: DeploymentSpec, ctx: StageContext): Promise<Record<string, Json>> {
    const command = this.scripts[stage];
    if (!command) {
      await ctx.progress({ message: `[Stage ${stage}] nothing to run`, details: {} });
      return {};
    }
    const child = spawn('sh', ['-c', command], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DEPLOYMENT_ID: spec.deploymentId,
        OWNER: spec.owner,
        REPO: spec.repo,
        BRANCH: spec.branch,
        STAGE: String(stage),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already exited
      }
    };
    ctx.signal.addEventListener('abort', kill, { once: true });
    const fields: Record<string, Json> = {};
    let lastError = '';
    child.stderr.on('data', (chunk: Buffer) => {
      lastError = chunk.toString().trim().split('\n').at(-1) ?? lastError;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('close', (code) => resolve(code)),
    );
    for await (const line of createInterface({ input: child.stdout })) {
      const set = /^::set ([A-Za-z][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (set) fields[set[1]!] = set[2]!;
      else if (line.trim())
        await ctx.progress({ message: `[Stage ${stage}] ${line}`, details: {} });
    }
    const code = await exited;
    ctx.signal.removeEventListener('abort', kill);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (code !== 0)
      throw new StageFailure(
        `stage ${stage} command exited with code ${code}${lastError ? `: ${lastError}` : ''}`,
      );
    return fields;
  }
}
