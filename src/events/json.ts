import type { Issue } from '../errors.js';
import type { Json } from './envelope.js';

/**
 * Finds what in `value` would not survive a JSON round trip unchanged (undefined, NaN, Infinity,
 * functions, symbols, bigints, cycles, class instances such as Date or Map). Returns one issue per
 * offending place, at most `max`.
 */
export function jsonIssues(value: unknown, path: string, max = 5): Issue[] {
  const issues: Issue[] = [];
  const seen = new Set<object>();
  const visit = (v: unknown, at: string): void => {
    if (issues.length >= max) return;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) issues.push({ path: at, message: `${v} is not a JSON number` });
      return;
    }
    if (typeof v !== 'object') {
      issues.push({ path: at, message: `a ${typeof v} is not JSON` });
      return;
    }
    if (seen.has(v)) {
      issues.push({ path: at, message: 'circular reference' });
      return;
    }
    seen.add(v);
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) visit(item, `${at}[${i}]`);
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        issues.push({
          path: at,
          message: `a ${proto?.constructor?.name ?? 'class'} instance is not plain JSON`,
        });
      } else {
        for (const [k, item] of Object.entries(v)) visit(item, `${at}.${k}`);
      }
    }
    seen.delete(v);
  };
  visit(value, path);
  return issues;
}

/**
 * How deep the arrays and objects a client sends may nest: recursive validation (`z.json()`) of
 * deeper input exhausts the stack, and Redis's cjson refuses 1000 levels.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The path of the first array or object nested deeper than `maxDepth` in `value` (itself at depth
 * 1), or undefined. Walks with its own stack, never recursion, and stops at that depth.
 */
export function nestedTooDeep(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: [unknown, string, number][] = [[value, '', 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, path, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > maxDepth) return path;
    for (const [k, item] of Object.entries(v))
      stack.push([item, path ? `${path}.${k}` : k, depth + 1]);
  }
  return undefined;
}

/** True when `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is { readonly [k: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** UTF-8 size of a string in bytes. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
