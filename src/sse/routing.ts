/**
 * Who gets what (SPEC.md §5, DESIGN.md G6): a notification reaches a session only when it is
 * addressed to the session's user, one of its groups, or everyone; topic patterns and field
 * filters then narrow that, never widen it.
 */
import { z } from 'zod';
import { type FilterRecord, filtersPass, normaliseField } from './filters.js';
import type { NotificationEntry } from './notification-log.js';

/** A session's topic patterns and field filters (field names already normalised). */
export interface SubscriptionSpec {
  /** `.`-separated patterns: `*` one token, `>` the rest; empty = every topic. */
  readonly topics: readonly string[];
  /** Normalised field name → accepted values (compared as strings). */
  readonly filters: FilterRecord;
}

/** Whose a session is. */
export interface Audience {
  readonly userId: string;
  readonly groups: readonly string[];
}

export const EVERYTHING: SubscriptionSpec = { topics: [], filters: {} };

/** A stored spec, read back (the session directory keeps them as JSON). */
export const subscriptionSpecSchema: z.ZodType<SubscriptionSpec> = z.object({
  topics: z.array(z.string()).readonly(),
  filters: z.record(z.string(), z.array(z.string()).readonly()).readonly(),
});

const TOKEN = /^[A-Za-z0-9_:-]{1,64}$/;

/** A topic pattern: tokens, `*` for one token, `>` only last for the rest. */
export const topicPattern = z
  .string()
  .max(256)
  .refine((p) => {
    const tokens = p.split('.');
    return tokens.every(
      (t, i) => TOKEN.test(t) || t === '*' || (t === '>' && i === tokens.length - 1),
    );
  }, 'a topic pattern is .-separated tokens of A-Z a-z 0-9 _ : -, with * for one token and > (last) for the rest');

/** True when `topic` matches `pattern`. */
export function topicMatches(pattern: string, topic: string): boolean {
  const want = pattern.split('.');
  const have = topic.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

/** True when the notification is addressed to this audience (before any topic or filter). */
export function addressedTo(audience: Audience, n: NotificationEntry): boolean {
  switch (n.target) {
    case 'broadcast':
      return true;
    case 'user':
      return n.targetIds.includes(audience.userId);
    case 'group':
      return n.targetIds.some((g) => audience.groups.includes(g));
    default:
      return false;
  }
}

/** True when the notification passes the subscription's topics and filters. */
export function passes(spec: SubscriptionSpec, n: NotificationEntry): boolean {
  if (spec.topics.length > 0) {
    if (!n.topic || !spec.topics.some((p) => topicMatches(p, n.topic))) return false;
  }
  return filtersPass(spec.filters, n.params);
}

/** The whole rule of SPEC.md §5 "Who gets what". */
export function delivers(
  audience: Audience,
  spec: SubscriptionSpec,
  n: NotificationEntry,
): boolean {
  return addressedTo(audience, n) && passes(spec, n);
}

/** `topics` and `filters` as a client sends them (query or JSON body). */
export const subscriptionInput = z.object({
  topics: z.array(topicPattern).max(64).optional(),
  filters: z
    .record(z.string().min(1).max(64), z.array(z.string().max(256)).min(1).max(64))
    .optional(),
});

/** Normalises validated input into a spec: fields that normalise alike are merged, values deduplicated. */
export function specOf(input: {
  readonly topics?: readonly string[] | undefined;
  readonly filters?: FilterRecord | undefined;
}): SubscriptionSpec {
  // a Map, not an object: field names such as `constructor` must not meet Object.prototype
  const filters = new Map<string, string[]>();
  for (const [field, values] of Object.entries(input.filters ?? {})) {
    const name = normaliseField(field);
    filters.set(name, [...new Set([...(filters.get(name) ?? []), ...values])]);
  }
  return { topics: [...(input.topics ?? [])], filters: Object.fromEntries(filters) };
}

/** Reads `topics=a.*,b.>` and `filter.<field>=v1,v2` from a query string's parameters. */
export function subscriptionFromQuery(query: URLSearchParams): z.input<typeof subscriptionInput> {
  const topics = query.get('topics');
  const filters = new Map<string, string[]>(); // `filter.__proto__` must stay a field
  for (const [key, value] of query) {
    if (key.startsWith('filter.')) filters.set(key.slice(7), value.split(',').filter(Boolean));
  }
  return {
    ...(topics ? { topics: topics.split(',').filter(Boolean) } : {}),
    ...(filters.size ? { filters: Object.fromEntries(filters) } : {}),
  };
}
