import type { Logger } from '../log.js';

/** The test-only fault points of DESIGN.md G1 (the window between deciding and committing). */
export type FaultPoint = 'exit-before-commit' | 'stall-before-commit' | 'exit-after-append';

const ITEM = '(((exit|stall)-before-commit|exit-after-append):(0(\\.\\d+)?|1(\\.0+)?)|no-dedup)';

/**
 * The grammar of `STREAMCAST_FAULT`: comma-separated `exit-before-commit:<probability>`,
 * `stall-before-commit:<probability>` and `no-dedup`.
 */
export const FAULT_SETTING = new RegExp(`^${ITEM}(,${ITEM})*$`);

/**
 * The test-only fault switch (`STREAMCAST_FAULT`, refused in production by the config). Since a
 * command is acknowledged in the script that commits it, the window a crash can hit is between a
 * batch's read and its commit:
 * - `exit-before-commit:0.01`: with that probability per batch, after deciding and before the
 *   commit script, the process kills itself with SIGKILL, as a crash would (its commands are
 *   reclaimed and handled elsewhere);
 * - `stall-before-commit:0.01`: with that probability per batch, the worker freezes before
 *   committing — it stops renewing the batch's entries, as a paused process would — for three
 *   times COMMAND_CLAIM_IDLE_MS, so another instance reclaims and commits them, then commits too
 *   (a zombie commit: the dedup check must make it a no-op);
 * - `exit-after-append:0.01` (STORE=eventstoredb, whose append cannot acknowledge the entry):
 *   with that probability per append, once EventStoreDB holds the events and before anything in
 *   Redis (acknowledgement, outcome, reply) — the redelivery must find them (`findAppended`);
 * - `no-dedup`: commit without checking idempotency keys, to show that the exactly-once test
 *   fails without that check.
 */
export class FaultSwitch {
  private constructor(
    private readonly probabilities: Readonly<Record<FaultPoint, number>>,
    /** True when the idempotency check is switched off (test-only). */
    readonly noDedup: boolean,
  ) {}

  /** Parses `STREAMCAST_FAULT` (undefined: the switch is off). */
  static from(setting: string | undefined, logger: Logger): FaultSwitch {
    const probabilities = {
      'exit-before-commit': 0,
      'stall-before-commit': 0,
      'exit-after-append': 0,
    };
    if (!setting) return new FaultSwitch(probabilities, false);
    if (!FAULT_SETTING.test(setting)) throw new Error(`STREAMCAST_FAULT: cannot parse ${setting}`);
    let noDedup = false;
    for (const item of setting.split(',')) {
      if (item === 'no-dedup') noDedup = true;
      else {
        const [point, p] = item.split(':');
        if (point && point in probabilities) probabilities[point as FaultPoint] = Number(p);
      }
    }
    logger.warn(`test-only fault switch on: ${setting}`);
    return new FaultSwitch(probabilities, noDedup);
  }

  /** True when this batch should hit `point` (each call is one draw). */
  hits(point: FaultPoint): boolean {
    return Math.random() < this.probabilities[point];
  }

  /** Dies here, as a crash would, after printing one line tests count. */
  exit(point: FaultPoint, detail: Record<string, unknown>): never {
    // written synchronously (a pipe write on Linux), so the line is out before the process dies
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: `fault: ${point}`, fault: point, ...detail })}\n`,
    );
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable: the process was killed');
  }
}
