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
    message = `${kind} ${id} was not found`,
  ) {
    super(message);
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

/** The caller is not authenticated (missing or bad credentials). */
export class UnauthenticatedError extends StreamcastError {
  readonly code = 'UNAUTHENTICATED';
}

/** The caller is authenticated but may not do this. */
export class ForbiddenError extends StreamcastError {
  readonly code = 'FORBIDDEN';
}

/** Too much work is waiting (command backlog, deployment queue); try again after `retryAfterMs`. */
export class OverloadedError extends StreamcastError {
  readonly code = 'OVERLOADED';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** A command was not handled within the wait; its outcome is unknown (ask `command.status`). */
export class CommandTimeoutError extends StreamcastError {
  readonly code = 'COMMAND_TIMEOUT';
  constructor(readonly commandId: string) {
    super(
      `command ${commandId} was not handled in time; its outcome is unknown: ask command.status`,
    );
  }
}

/**
 * A command's outcome was written, but fewer Redis replicas than REDIS_WAIT_REPLICAS took it within
 * REDIS_WAIT_TIMEOUT_MS: a failover now could lose it, so it is not answered as done (-32030).
 */
export class ReplicaShortfallError extends StreamcastError {
  readonly code = 'REPLICA_SHORTFALL';
  constructor(
    readonly commandId: string,
    readonly replicas: number,
    readonly acked: number,
  ) {
    super(
      `command ${commandId} was handled, but only ${acked} of ${replicas} Redis replicas confirmed its outcome in time, so it could still be lost in a failover: ask command.status, or retry with the same id (it is not applied twice)`,
    );
  }
}

/** A command was dead-lettered after its attempts. */
export class DeadLetteredError extends StreamcastError {
  readonly code = 'DEAD_LETTERED';
  constructor(
    readonly commandId: string,
    readonly attempts: number,
    readonly lastError: string,
  ) {
    super(`command dead-lettered after ${attempts} attempts: ${lastError}`);
  }
}

/** A deployment's result was asked for while it still runs. */
export class DeploymentRunningError extends StreamcastError {
  readonly code = 'DEPLOYMENT_IN_PROGRESS';
  constructor(
    readonly deploymentId: string,
    readonly status: string,
  ) {
    super(
      `Deployment ${deploymentId} is still in progress (${status}): ask again once it has finished`,
    );
  }
}

/** A read model did not reach the asked position in time. */
export class ReadModelLagError extends StreamcastError {
  readonly code = 'READ_MODEL_LAG';
  constructor(
    readonly projection: string,
    readonly minPosition: string,
    readonly position: string,
  ) {
    super(
      `projection ${projection} is at ${position}, not yet at ${minPosition}: try again shortly`,
    );
  }
}

/**
 * The errors that are a command's answer rather than a failure: recorded with its outcome and
 * never retried (a broken rule, invalid input, a missing or forbidden thing, a full queue, or a
 * conflict with the client's own expectedVersion). Anything else thrown while handling is
 * transient: retried, then dead-lettered.
 */
export type AnswerError =
  | ValidationError
  | NotFoundError
  | ForbiddenError
  | ConcurrencyError
  | DomainRuleError
  | OverloadedError;

/** True for an `AnswerError`. */
export function isAnswerError(error: unknown): error is AnswerError {
  return (
    error instanceof DomainRuleError ||
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ForbiddenError ||
    error instanceof OverloadedError ||
    error instanceof ConcurrencyError
  );
}
