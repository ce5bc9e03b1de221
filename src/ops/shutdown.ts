/**
 * Graceful shutdown (DESIGN.md §7 "Shutdown order"): named steps run one after another, each told
 * the deadline `SHUTDOWN_GRACE_MS` sets for waiting on in-flight work. A failing step is logged and
 * the next one runs. Closing steps that come after the deadline get a short margin, then the
 * process exits anyway: what it still held is reclaimed by the other instances.
 */
import type { Logger } from '../log.js';

/** One step of the shutdown. */
export interface ShutdownStep {
  /** What it does, logged as it begins: `stop reading commands`. */
  readonly name: string;
  /** Does it; `deadline` (epoch ms) is when waiting for in-flight work must end. */
  run(deadline: number): Promise<void>;
}

/** Settings of `GracefulShutdown`. */
export interface ShutdownOptions {
  /** `SHUTDOWN_GRACE_MS` */
  readonly graceMs: number;
  readonly logger: Logger;
  /** Past the deadline, the closing steps get this much longer before a forced exit (default 3000). */
  readonly closeMarginMs?: number;
  /** Ends the process (default `process.exit`). */
  readonly exit?: (code: number) => void;
}

/** Runs the shutdown steps once, in order, then exits. */
export class GracefulShutdown {
  private readonly steps: ShutdownStep[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly options: ShutdownOptions) {}

  /** True once `begin` was called. */
  get started(): boolean {
    return this.running !== undefined;
  }

  /** Appends a step; steps run in the order they were added. */
  add(step: ShutdownStep): this {
    this.steps.push(step);
    return this;
  }

  /** Starts the shutdown (later calls return the same run), then exits with `exitCode`. */
  begin(reason: string, exitCode = 0): Promise<void> {
    this.running ??= this.run(reason, exitCode);
    return this.running;
  }

  private async run(reason: string, exitCode: number): Promise<void> {
    const { graceMs, logger } = this.options;
    const exit = this.options.exit ?? ((code: number) => process.exit(code));
    const started = Date.now();
    const deadline = started + graceMs;
    const limit = graceMs + (this.options.closeMarginMs ?? 3000);
    const force = setTimeout(() => {
      logger.error(
        `shutdown did not finish within ${limit} ms (SHUTDOWN_GRACE_MS ${graceMs} + margin); exiting now, other instances reclaim what this one held`,
      );
      exit(1);
    }, limit);
    force.unref();
    logger.info(`${reason}: shutting down (SHUTDOWN_GRACE_MS ${graceMs})`, {
      component: 'shutdown',
    });
    for (const step of this.steps) {
      logger.info(`shutdown: ${step.name}`, {
        component: 'shutdown',
        elapsedMs: Date.now() - started,
      });
      try {
        await step.run(deadline);
      } catch (error) {
        logger.error(`shutdown: ${step.name} failed: ${String(error)}`, { component: 'shutdown' });
      }
    }
    clearTimeout(force);
    logger.info('stopped', { component: 'shutdown', elapsedMs: Date.now() - started });
    exit(exitCode);
  }
}

/**
 * How long a shutting-down instance keeps serving with `/readyz` at 503 before it stops taking
 * connections, so load balancers that probe it route new requests elsewhere first: a fifth of the
 * grace time, at most two seconds.
 */
export function readinessDrainMs(graceMs: number): number {
  return Math.min(Math.floor(graceMs / 5), 2000);
}

/** Resolves after `ms`, or at `deadline` (epoch ms) if that comes first. */
export function sleepUntil(ms: number, deadline: number): Promise<void> {
  const wait = Math.max(Math.min(ms, deadline - Date.now()), 0);
  return new Promise((resolve) => setTimeout(resolve, wait));
}
