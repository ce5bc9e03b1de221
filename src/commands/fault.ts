import type { Logger } from '../log.js';

/** The test-only fault points of DESIGN.md G1. */
export type FaultPoint = 'exit-after-append';

/** The grammar of `STREAMCAST_FAULT`: comma-separated `exit-after-append:<probability>` and `no-dedup`. */
export const FAULT_SETTING =
  /^(exit-after-append:(0(\.\d+)?|1(\.0+)?)|no-dedup)(,(exit-after-append:(0(\.\d+)?|1(\.0+)?)|no-dedup))*$/;

/**
 * The test-only fault switch (`STREAMCAST_FAULT`, refused in production by the config):
 * - `exit-after-append:0.05`: between a command's append and its XACK, with that probability, the
 *   process kills itself with SIGKILL, as a crash would, after printing one line tests count;
 * - `no-dedup`: handle commands without checking their idempotency key first, to show that the
 *   exactly-once test fails without that check.
 */
export class FaultSwitch {
  private constructor(
    private readonly exitAfterAppend: number,
    /** True when the idempotency check is switched off (test-only). */
    readonly noDedup: boolean,
  ) {}

  /** Parses `STREAMCAST_FAULT` (undefined: the switch is off). */
  static from(setting: string | undefined, logger: Logger): FaultSwitch {
    if (!setting) return new FaultSwitch(0, false);
    if (!FAULT_SETTING.test(setting)) throw new Error(`STREAMCAST_FAULT: cannot parse ${setting}`);
    let exit = 0;
    let noDedup = false;
    for (const item of setting.split(',')) {
      if (item === 'no-dedup') noDedup = true;
      else exit = Number(item.split(':')[1]);
    }
    logger.warn(`test-only fault switch on: ${setting}`);
    return new FaultSwitch(exit, noDedup);
  }

  /** Maybe dies here. */
  at(point: FaultPoint, detail: Record<string, unknown>): void {
    if (point !== 'exit-after-append' || Math.random() >= this.exitAfterAppend) return;
    // written synchronously (a pipe write on Linux), so the line is out before the process dies
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: `fault: ${point}`, fault: point, ...detail })}\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  }
}
