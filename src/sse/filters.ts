/**
 * Field filters (SPEC.md §5 `filter.<field>=v1,v2`): a session passes a notification only when
 * each filtered top-level params field holds one of the accepted values, compared as strings, with
 * field names compared ignoring case and `_`. Matching runs per session per notification, so its
 * cost is kept linear: each filter is compiled once per subscription into a lookup, and each
 * notification's params keys are normalised once, however many sessions look at it.
 */
import type { Json } from '../events/envelope.js';

/** Normalised field name → accepted values, as a subscription keeps them. */
export type FilterRecord = Readonly<Record<string, readonly string[]>>;

/** Field names match ignoring case and `_` (`credentialId` = `credential_id`). */
export function normaliseField(name: string): string {
  return name.toLowerCase().replaceAll('_', '');
}

/** One compiled filter: the normalised field and the set of accepted values. */
interface CompiledFilter {
  readonly field: string;
  readonly accepted: ReadonlySet<string>;
}

const NO_FILTERS: readonly CompiledFilter[] = [];

/** Compiled once per filter record (a subscription's spec is replaced, never changed in place). */
const compiled = new WeakMap<FilterRecord, readonly CompiledFilter[]>();

function compiledFilters(filters: FilterRecord): readonly CompiledFilter[] {
  let found = compiled.get(filters);
  if (!found) {
    const entries = Object.entries(filters);
    found =
      entries.length === 0
        ? NO_FILTERS
        : entries.map(([field, values]) => ({ field, accepted: new Set(values) }));
    compiled.set(filters, found);
  }
  return found;
}

/**
 * Two params keys that normalise alike but hold different values (`from` set by the server,
 * `FROM` or `f_r_o_m` sent by a client): the field passes no filter, so a client-sent key can
 * never stand in for a server-set one.
 */
const AMBIGUOUS: unique symbol = Symbol('ambiguous field');

/** Each notification's params by normalised field name, built once for all the sessions. */
const fieldsOf = new WeakMap<object, ReadonlyMap<string, Json | typeof AMBIGUOUS>>();

function paramFields(params: {
  readonly [k: string]: Json;
}): ReadonlyMap<string, Json | typeof AMBIGUOUS> {
  let fields = fieldsOf.get(params);
  if (!fields) {
    const byName = new Map<string, Json | typeof AMBIGUOUS>();
    for (const key of Object.keys(params)) {
      const field = normaliseField(key);
      const value = params[key]!;
      byName.set(field, byName.has(field) && byName.get(field) !== value ? AMBIGUOUS : value);
    }
    fields = byName;
    fieldsOf.set(params, fields);
  }
  return fields;
}

/**
 * True when every filter accepts the params' value of its field (a missing, null, non-scalar or
 * ambiguous value never passes). Without filters it returns at once and allocates nothing.
 */
export function filtersPass(
  filters: FilterRecord,
  params: { readonly [k: string]: Json },
): boolean {
  const wanted = compiledFilters(filters);
  if (wanted.length === 0) return true;
  const fields = paramFields(params);
  for (let i = 0; i < wanted.length; i++) {
    const { field, accepted } = wanted[i]!;
    const value = fields.get(field);
    // only scalars compare as strings: missing, null, objects and ambiguous fields never pass
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      return false;
    }
    if (!accepted.has(String(value))) return false;
  }
  return true;
}
