/**
 * The typed errors streamcast raises. Each has a stable `code`; the JSON-RPC and REST layers map
 * them to wire errors in one place, so messages here say what was wrong and what to do.
 */

/** One problem found while validating input: where it is and what is wrong with it. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Base class: every error streamcast throws on purpose extends it. */
export abstract class StreamcastError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** Input was malformed or too large; nothing was written. */
export class ValidationError extends StreamcastError {
  readonly code = 'VALIDATION';
  constructor(
    message: string,
    readonly issues: readonly Issue[] = [{ path: '', message }],
  ) {
    super(message);
  }

  /** Builds one error listing every issue, or returns nothing when there are none. */
  static fromIssues(what: string, issues: readonly Issue[]): ValidationError | undefined {
    if (issues.length === 0) return undefined;
    const list = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
    return new ValidationError(`${what}: ${list}`, issues);
  }
}

/** An append's expected version did not match the stream; retry after reloading it. */
export class ConcurrencyError extends StreamcastError {
  readonly code = 'CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: string | number,
    readonly actualVersion: number,
  ) {
    super(
      `stream ${streamId} is at version ${actualVersion}, expected ${String(expectedVersion)}: reload it and decide again`,
    );
  }
}

/** A thing that was asked for does not exist. */
export class NotFoundError extends StreamcastError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly kind: string,
    readonly id: string,
  ) {
    super(`${kind} ${id} was not found`);
  }
}

/** A domain rule refused the command (for example: stop while not moving). */
export class DomainRuleError extends StreamcastError {
  readonly code = 'DOMAIN_RULE';
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

/** The configuration is invalid; `problems` has one line per key. */
export class ConfigError extends StreamcastError {
  readonly code = 'CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}
