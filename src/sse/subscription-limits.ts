/**
 * Per-session bounds on what a subscription may ask for, checked before it is kept or used: every
 * filter field and value costs work on each notification the session's instance delivers, and a
 * client-chosen session's subscription is kept in Redis, so a client must not choose how much.
 */
import { ValidationError } from '../errors.js';
import type { SubscriptionSpec } from './routing.js';

/**
 * Largest subscription (topics and filters as JSON) a session may have: a client-chosen session's
 * is kept in Redis for a day, so its size is bounded however the other limits are set.
 */
export const MAX_SUBSCRIPTION_BYTES = 8192;

/** The bounds of one session's subscription. */
export interface SubscriptionLimits {
  /** `SSE_MAX_FILTERS`: filter fields (after names are normalised). */
  readonly maxFilters: number;
  /** `SSE_MAX_FILTER_VALUES`: accepted values over all the fields together. */
  readonly maxFilterValues: number;
}

/** Throws a `ValidationError` naming the limit a subscription goes past. */
export function checkSubscriptionLimits(spec: SubscriptionSpec, limits: SubscriptionLimits): void {
  const fields = Object.keys(spec.filters).length;
  const values = Object.values(spec.filters).reduce((n, accepted) => n + accepted.length, 0);
  const issues = [];
  if (fields > limits.maxFilters) {
    issues.push({
      path: 'filters',
      message: `${fields} filter fields, at most ${limits.maxFilters} (SSE_MAX_FILTERS)`,
    });
  }
  if (values > limits.maxFilterValues) {
    issues.push({
      path: 'filters',
      message: `${values} filter values, at most ${limits.maxFilterValues} over all fields (SSE_MAX_FILTER_VALUES)`,
    });
  }
  const bytes = Buffer.byteLength(JSON.stringify(spec));
  if (bytes > MAX_SUBSCRIPTION_BYTES) {
    issues.push({
      path: '',
      message: `${bytes} bytes of topics and filters, at most ${MAX_SUBSCRIPTION_BYTES}`,
    });
  }
  const error = ValidationError.fromIssues('the subscription asks for too much', issues);
  if (error) throw error;
}
