/**
 * Start-up checks of the Redis an instance is about to use (SPEC.md §5 "Durability"): refuse one
 * that may evict keys or is too old, warn when it runs without AOF. Each finding is one line that
 * names the problem, what it costs, and the fix.
 */
import type { RedisClient } from '../events/redis-connection.js';

/** What the checks need to know about a Redis, read from `INFO` (works where `CONFIG` is disabled). */
export interface RedisFacts {
  /** `redis_version`, e.g. `7.0.15`. */
  readonly version: string;
  /** `maxmemory_policy`, e.g. `noeviction`. */
  readonly maxmemoryPolicy: string;
  /** `aof_enabled`. */
  readonly aofEnabled: boolean;
}

/** One finding: `refuse` stops start-up, `warn` is logged and start-up goes on. */
export interface Finding {
  readonly severity: 'refuse' | 'warn';
  /** Stable name of the check (`maxmemory-policy`, `aof`, `redis-version`). */
  readonly check: string;
  /** One line: the problem, what it risks, and the fix. */
  readonly message: string;
}

/** The oldest Redis streamcast runs on: `XINFO GROUPS` reports `lag` from 7.0 on. */
const MIN_MAJOR = 7;

/** Reads the facts from `INFO server`, `INFO memory` and `INFO persistence`. */
export async function readRedisFacts(redis: RedisClient): Promise<RedisFacts> {
  const [server, memory, persistence] = await Promise.all([
    redis.info('server'),
    redis.info('memory'),
    redis.info('persistence'),
  ]);
  const fields = parseInfo(`${server}\n${memory}\n${persistence}`);
  return {
    version: fields.redis_version ?? 'unknown',
    maxmemoryPolicy: fields.maxmemory_policy ?? 'unknown',
    aofEnabled: fields.aof_enabled === '1',
  };
}

/** Parses `INFO` text (`key:value` lines, `#` section headers) into a map. */
export function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

/** Judges a Redis: every problem found, refusals first. */
export function assessRedis(facts: RedisFacts): Finding[] {
  const findings = [versionFinding(facts), policyFinding(facts), aofFinding(facts)];
  return findings
    .filter((f): f is Finding => f !== undefined)
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'refuse' ? -1 : 1));
}

function versionFinding({ version }: RedisFacts): Finding | undefined {
  const major = Number.parseInt(version, 10);
  if (Number.isFinite(major) && major >= MIN_MAJOR) return undefined;
  return {
    severity: 'refuse',
    check: 'redis-version',
    message: `Redis ${version} is too old: streamcast needs Redis ${MIN_MAJOR}.0 or newer (consumer-group lag, XAUTOCLAIM). Fix: upgrade Redis.`,
  };
}

function policyFinding({ maxmemoryPolicy: policy }: RedisFacts): Finding | undefined {
  if (policy === 'noeviction') return undefined;
  const risk = policy.startsWith('volatile-')
    ? 'it evicts keys with a TTL, which are the exactly-once records of handled commands (a retried command would be applied twice)'
    : policy.startsWith('allkeys-')
      ? 'it evicts any key, events and streams included'
      : 'only noeviction is known never to drop keys';
  return {
    severity: 'refuse',
    check: 'maxmemory-policy',
    message: `Redis maxmemory-policy is ${policy}: ${risk}. Fix: set maxmemory-policy noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf), and size maxmemory for the events (README "Sizing").`,
  };
}

function aofFinding({ aofEnabled }: RedisFacts): Finding | undefined {
  if (aofEnabled) return undefined;
  return {
    severity: 'warn',
    check: 'aof',
    message:
      'Redis runs without AOF (appendonly no): a Redis crash loses every acknowledged command since the last RDB snapshot. Fix: set appendonly yes (appendfsync everysec loses at most about a second, always loses nothing); see README "Operations".',
  };
}
