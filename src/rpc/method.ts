/**
 * A JSON-RPC method: its name, the zod schema that validates its named params (and documents them
 * in `rpc.discover`), who may call it, and the handler that answers it.
 */

import type { z } from 'zod';
import type { Actor } from '../domain/actor.js';
import type { RpcErrorCode } from '../error-codes.js';
import type { ResponseBudget } from '../events/byte-budget.js';
import type { Logger } from '../log.js';
import type { TraceContext } from '../tracing/http.js';

/** Who is calling, as authentication established it (SPEC.md §3). */
export type Caller = Actor;

/** Who may call a method: anyone, any authenticated caller, or admins only. */
export type AuthLevel = 'public' | 'user' | 'admin';

/** What a handler gets beside its params. */
export interface RpcContext {
  /** The caller; `anonymous` for public methods called without credentials. */
  readonly user: Caller;
  /** One id per HTTP request, echoed in `X-Correlation-Id`; stamp it on commands and log lines. */
  readonly correlationId: string;
  /** Logger already carrying `correlationId` and `method`. */
  readonly logger: Logger;
  /** Aborted when the client goes away before its answer was sent. */
  readonly signal?: AbortSignal;
  /** The request's trace context, handed on to the commands it sends. */
  readonly trace?: TraceContext;
  /**
   * What this call's answer may still hold, shared with the other members of its batch
   * (`RPC_MAX_RESPONSE_BYTES`): reads stop their pages short at it. Absent: unbounded.
   */
  readonly budget?: ResponseBudget;
}

/** The params schema of a method: a zod object (by-name params only). */
export type ParamsSchema = z.ZodObject<z.core.$ZodShape, z.core.$ZodObjectConfig>;

/** A defined method, as the router and the OpenRPC generator see it. */
export interface RpcMethod<P extends ParamsSchema = ParamsSchema, R extends z.ZodType = z.ZodType> {
  /** `area.verb`, e.g. `trainer.move`. */
  readonly name: string;
  /** One line for `rpc.discover`. */
  readonly summary: string;
  /** Longer text for `rpc.discover`, when one line is not enough. */
  readonly description?: string;
  /** Validates the params object; omitted params are validated as `{}`. */
  readonly params: P;
  /** Documents the result in `rpc.discover` (not checked at run time). */
  readonly result?: R;
  /** Who may call it. */
  readonly auth: AuthLevel;
  /** The application error codes it may answer with, listed in `rpc.discover`. */
  readonly errors?: readonly RpcErrorCode[];
  /** Answers one call with validated params; throws typed errors (`src/errors.ts`) to refuse. */
  handler(params: z.output<P>, ctx: RpcContext): Promise<z.output<R>>;
}

/** What `defineMethod` takes: a method whose `auth` defaults to `user`. */
export type MethodDefinition<P extends ParamsSchema, R extends z.ZodType> = Omit<
  RpcMethod<P, R>,
  'auth'
> & { readonly auth?: AuthLevel };

/** Defines a method; the handler's params are typed from the params schema. */
export function defineMethod<P extends ParamsSchema, R extends z.ZodType = z.ZodUnknown>(
  definition: MethodDefinition<P, R>,
): RpcMethod<P, R> {
  return { ...definition, auth: definition.auth ?? 'user' };
}
