import { ConfigError } from '../../src/errors.js';

/**
 * Runs a command-line script's `run` and sets the exit code it answers; a thrown error is printed
 * as `<name> failed: <message>` (a configuration error as its list of problems) with exit code 1.
 */
export async function runScript(name: string, run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } catch (error) {
    process.stderr.write(
      `${name} failed: ${error instanceof ConfigError ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
