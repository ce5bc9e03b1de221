import type { Logger } from '../log.js';

/** The test-only fault points of DESIGN.md G1. */
export type FaultPoint = 'exit-after-append';

/**
 * The test-only fault switch (`STREAMCAST_FAULT=exit-after-append:0.05`, refused in production by
 * the config): at a named point, with the given probability, the process kills itself with
 * SIGKILL, as a crash would, after printing one line tests count.
 */
export class FaultSwitch {
  private constructor(
    private readonly point: FaultPoint | undefined,
    private readonly probability: number,
  ) {}

  /** Parses `STREAMCAST_FAULT` (undefined: the switch is off). */
  static from(setting: string | undefined, logger: Logger): FaultSwitch {
    if (!setting) return new FaultSwitch(undefined, 0);
    const [point, probability] = setting.split(':');
    if (point !== 'exit-after-append')
      throw new Error(`STREAMCAST_FAULT: unknown fault point ${point}`);
    logger.warn(`test-only fault switch on: ${setting}`);
    return new FaultSwitch(point, Number(probability));
  }

  /** Maybe dies here. */
  at(point: FaultPoint, detail: Record<string, unknown>): void {
    if (point !== this.point || Math.random() >= this.probability) return;
    // written synchronously (a pipe write on Linux), so the line is out before the process dies
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: `fault: ${point}`, fault: point, ...detail })}\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  }
}
