import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FAULT_SETTING } from './commands/fault.js';
import { ConfigError } from './errors.js';
import { MAX_PARTITIONS } from './events/partitions.js';
import { LOG_LEVELS } from './log.js';
import { OTEL_KEYS, type TracingSettings, tracingSettingsOf } from './tracing/settings.js';

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
/** `true`/`false` (also `1`/`0`, or a YAML boolean); z.coerce.boolean would read "false" as true. */
const bool = (fallback: boolean) =>
  z
    .union([z.boolean(), z.string()])
    .default(fallback)
    .transform((v, ctx) => {
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === '1') return true;
      if (v === 'false' || v === '0') return false;
      ctx.addIssue({ code: 'custom', message: 'must be true or false' });
      return z.NEVER;
    });
const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .optional();

/** `scheme://host[:port]`, as a browser sends it in `Origin` (a trailing slash is tolerated). */
const ORIGIN = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/]+\/?$/;

/** Every key of SPEC.md §2 with its default; the names are the environment variables'. */
const schema = z
  .object({
    NODE_ENV: z.string().default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
      .optional(),
    REDIS_CLUSTER_NODES: csv.refine(
      (nodes) => !nodes || nodes.every((n) => /^[^\s:/]+:\d{1,5}$/.test(n)),
      'must be host:port of Redis Cluster nodes (a comma list), e.g. 10.0.0.1:7000,10.0.0.2:7000',
    ),
    REDIS_WAIT_REPLICAS: int(0, 0),
    REDIS_WAIT_TIMEOUT_MS: int(1, 1000),
    PARTITIONS: int(1, 1).refine((n) => n <= MAX_PARTITIONS, `must be at most ${MAX_PARTITIONS}`),
    STORE: z.enum(['redis', 'memory', 'eventstoredb']).optional(),
    EVENTSTORE_CONNECTION_STRING: z.string().optional(),
    EVENTSTORE_STREAM_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{0,64}$/, 'must be 0-64 characters of A-Z a-z 0-9 . _ : -')
      .default(''),
    SERVER_ID: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : -')
      .default(
        () =>
          `${hostname()
            .replace(/[^A-Za-z0-9._:-]/g, '-')
            .slice(0, 100)}-${randomBytes(4).toString('hex')}`,
      ),
    KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -')
      .default('sc'),
    AUTH_MODE: z.enum(['none', 'jwt']).default('none'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_SECRET_PREVIOUS: csv.refine(
      (secrets) => !secrets || secrets.every((s) => s.length >= 32),
      'each secret must be at least 32 characters (a comma list)',
    ),
    JWT_JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    JWT_REQUIRE_EXP: bool(true),
    JWT_MAX_LIFETIME_S: int(1, 86400),
    SECRET_KEY: z.string().optional(),
    SECRET_KEY_PREVIOUS: csv,
    COMMAND_TIMEOUT_MS: int(1, 30000),
    COMMAND_MAX_ATTEMPTS: int(1, 3),
    COMMAND_CLAIM_IDLE_MS: int(100, 5000),
    COMMAND_DEDUP_TTL_S: int(1, 86400),
    SNAPSHOT_EVERY: int(0, 100),
    MAX_EVENT_BYTES: int(256, 65536),
    MAX_NOTIFICATION_BYTES: int(256, 16384),
    CORS_ORIGINS: csv,
    SSE_HEARTBEAT_MS: int(100, 15000),
    SSE_RETRY_MS: int(1, 3000),
    SSE_MAX_CONNECTIONS: int(1, 10000),
    SSE_MAX_CONNECTIONS_PER_USER: int(1, 32),
    SSE_MAX_SESSIONS_PER_USER: int(0, 64),
    SSE_MAX_BUFFERED_BYTES: int(1024, 1048576),
    SSE_STALL_TIMEOUT_MS: int(100, 30000),
    SSE_MAX_FILTERS: int(0, 16),
    SSE_MAX_FILTER_VALUES: int(0, 32),
    NOTIFY_RETENTION: int(1, 100000),
    /** Log entries older than this may be trimmed (README "Tiers"); unset: no time bound. */
    LOG_RETENTION_MS: z.coerce.number().int().min(1000, 'must be at least 1000 ms').optional(),
    DEPLOY_MAX_CONCURRENT: int(1, 10),
    DEPLOY_MAX_QUEUED: int(0, 100),
    DEPLOY_STAGE_TIMEOUT_MS: int(1, 600000),
    DEPLOY_TIMEOUT_MS: int(1, 1800000),
    DEPLOY_RESULTS_KEEP: int(1, 1000),
    DEPLOY_RUNNER: z.enum(['simulated', 'script']).default('simulated'),
    DEPLOY_SIM_STEP_MS: int(0, 500),
    DEPLOY_SCRIPT_FILE: z.string().optional(),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    RPC_MAX_BATCH: int(1, 100),
    RPC_MAX_BODY_BYTES: int(1024, 1048576),
    RPC_MAX_RESPONSE_BYTES: int(1024, 16777216),
    COMMAND_BACKLOG_MAX: int(1, 10000),
    COMMAND_BATCH_MAX: int(1, 64),
    COMMAND_HANDLER_DEADLINE_MS: int(100, 30000),
    LEASE_TTL_MS: int(100, 10000),
    PRESENCE_TTL_MS: int(100, 30000),
    SERVER_TTL_MS: int(100, 15000),
    SHUTDOWN_GRACE_MS: int(0, 10000),
    TRAINER_SPEED: z.coerce.number().positive().finite().default(5),
    ARCHIVE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    ARCHIVE_BATCH: int(1, 500).refine((n) => n <= 10000, 'must be at most 10000'),
    STREAMCAST_FAULT: z
      .string()
      .regex(
        FAULT_SETTING,
        'must look like exit-before-commit:0.05, stall-before-commit:0.05, exit-after-append:0.05 or no-dedup (comma list)',
      )
      .optional(),
    COMMAND_WORKER: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
    ...OTEL_KEYS,
  })
  .strict();

type Parsed = z.infer<typeof schema>;

/** The validated configuration: SPEC.md §2's keys, defaults filled, `STORE` and the keys resolved. */
export type Config = Readonly<
  Omit<Parsed, 'STORE' | 'SECRET_KEY' | 'SECRET_KEY_PREVIOUS'> & {
    STORE: NonNullable<Parsed['STORE']>;
    SECRET_KEY: Buffer;
    /** Rotated-out keys, still opened (never sealed with). */
    SECRET_KEY_PREVIOUS: readonly Buffer[];
    /** From the `OTEL_*` keys: absent when tracing is off. */
    TRACING: TracingSettings | undefined;
  }
>;

const KEYS = Object.keys(schema.shape) as (keyof Parsed)[];

/**
 * Reads the configuration once: `CONFIG_FILE` (flat YAML, same keys) under the environment, which
 * wins. Throws `ConfigError` listing every problem, one line per key, each with the fix.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  if (env.CONFIG_FILE) Object.assign(raw, readConfigFile(env.CONFIG_FILE, problems));
  for (const key of KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          problems.push(`${key}: unknown key in ${env.CONFIG_FILE} (see SPEC.md §2 for the keys)`);
      } else problems.push(`${issue.path.join('.') || '(config)'}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const config = resolve(parsed.data, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readConfigFile(path: string, problems: string[]): Record<string, unknown> {
  try {
    const data: unknown = parseYaml(readFileSync(path, 'utf8'));
    if (data === null || data === undefined) return {};
    if (typeof data !== 'object' || Array.isArray(data)) {
      problems.push(`CONFIG_FILE: ${path} must hold a flat YAML map of keys to values`);
      return {};
    }
    return data as Record<string, unknown>;
  } catch (error) {
    problems.push(`CONFIG_FILE: cannot read ${path}: ${(error as Error).message}`);
    return {};
  }
}

/**
 * STORE=eventstoredb: events in EventStoreDB, everything else (commands, outcomes, notifications,
 * read models, SSE) in Redis — one partition, nothing Redis-only about the log.
 */
function eventStoreDbProblems(c: Parsed, redis: boolean, problems: string[]): void {
  if (!c.EVENTSTORE_CONNECTION_STRING) {
    problems.push(
      'EVENTSTORE_CONNECTION_STRING: required with STORE=eventstoredb (e.g. esdb://127.0.0.1:2113?tls=false)',
    );
  } else if (!/^esdb(\+discover)?:\/\//.test(c.EVENTSTORE_CONNECTION_STRING)) {
    problems.push(
      'EVENTSTORE_CONNECTION_STRING: must start with esdb:// or esdb+discover:// (e.g. esdb://127.0.0.1:2113?tls=false)',
    );
  }
  if (!redis) {
    problems.push(
      'REDIS_URL: required with STORE=eventstoredb too (commands, outcomes, notifications, read models and SSE stay on Redis), or REDIS_CLUSTER_NODES',
    );
  }
  if (c.PARTITIONS !== 1) {
    problems.push(
      `PARTITIONS: must be 1 with STORE=eventstoredb (EventStoreDB's $all is one log; got ${c.PARTITIONS})`,
    );
  }
  if (c.ARCHIVE_URL || c.LOG_RETENTION_MS !== undefined) {
    problems.push(
      'ARCHIVE_URL and LOG_RETENTION_MS: not with STORE=eventstoredb (EventStoreDB keeps the whole history; nothing of the log is in Redis to trim or archive); unset them',
    );
  }
  if (c.REDIS_WAIT_REPLICAS > 0) {
    problems.push(
      'REDIS_WAIT_REPLICAS: not with STORE=eventstoredb (its outcomes are written by the notifier, which does not WAIT); set it to 0',
    );
  }
}

/** Cross-key rules, each reported with the fix. */
function resolve(c: Parsed, problems: string[]): Config {
  const production = c.NODE_ENV === 'production';
  const redis = Boolean(c.REDIS_URL || c.REDIS_CLUSTER_NODES?.length);
  const store = c.STORE ?? (redis ? 'redis' : 'memory');
  if (store === 'redis' && !redis)
    problems.push(
      'REDIS_URL: required with STORE=redis (e.g. redis://127.0.0.1:6379), or REDIS_CLUSTER_NODES for a Redis Cluster',
    );
  if (store === 'memory' && (c.PARTITIONS > 1 || c.REDIS_WAIT_REPLICAS > 0)) {
    problems.push(
      'PARTITIONS and REDIS_WAIT_REPLICAS: only with Redis (the in-memory store is one partition without replicas); set REDIS_URL or REDIS_CLUSTER_NODES',
    );
  }
  if (store === 'memory' && c.ARCHIVE_URL) {
    problems.push(
      'ARCHIVE_URL: only with Redis (the in-memory store keeps nothing past a restart to archive); set REDIS_URL or unset ARCHIVE_URL',
    );
  }
  if (store === 'memory' && production) {
    problems.push('STORE: the in-memory store is refused with NODE_ENV=production; set REDIS_URL');
  }
  if (store === 'eventstoredb') eventStoreDbProblems(c, redis, problems);
  if (c.AUTH_MODE === 'none' && production) {
    problems.push('AUTH_MODE: "none" is refused with NODE_ENV=production; use AUTH_MODE=jwt');
  }
  if (c.AUTH_MODE === 'jwt' && !c.JWT_SECRET && !c.JWT_JWKS_URL) {
    problems.push('JWT_SECRET or JWT_JWKS_URL: one is required with AUTH_MODE=jwt');
  }
  if (c.JWT_SECRET_PREVIOUS?.length && !c.JWT_SECRET) {
    problems.push(
      'JWT_SECRET_PREVIOUS: only with JWT_SECRET (the current secret); previous ones are accepted beside it while their tokens live out',
    );
  }
  if (c.RPC_MAX_RESPONSE_BYTES < c.MAX_EVENT_BYTES + 8192) {
    problems.push(
      `RPC_MAX_RESPONSE_BYTES: must be at least MAX_EVENT_BYTES + 8192 (${c.MAX_EVENT_BYTES + 8192}), so that a response can hold the largest event`,
    );
  }
  if (c.STREAMCAST_FAULT && production) {
    problems.push(
      'STREAMCAST_FAULT: the test-only fault switch is refused with NODE_ENV=production; unset it',
    );
  }
  if (c.DEPLOY_RUNNER === 'script' && !c.DEPLOY_SCRIPT_FILE) {
    problems.push(
      'DEPLOY_SCRIPT_FILE: required with DEPLOY_RUNNER=script (a YAML map of stage 1-6 to a shell command)',
    );
  }
  for (const origin of c.CORS_ORIGINS ?? []) {
    if (origin.toLowerCase() === 'null') {
      problems.push(
        'CORS_ORIGINS: "null" is never allowed (sandboxed frames, file: pages and redirects send it, so any site can); list real origins',
      );
    } else if (origin !== '*' && !ORIGIN.test(origin)) {
      problems.push(
        `CORS_ORIGINS: ${JSON.stringify(origin)} is not an origin; use * or origins like https://app.example.com`,
      );
    }
  }
  const tracing = tracingSettingsOf(c, problems);
  return { ...c, STORE: store, TRACING: tracing, ...secretKeys(c, store, problems) };
}

/** `SECRET_KEY` (random for the memory store when unset) and `SECRET_KEY_PREVIOUS`, checked. */
function secretKeys(
  c: Parsed,
  store: string,
  problems: string[],
): { SECRET_KEY: Buffer; SECRET_KEY_PREVIOUS: Buffer[] } {
  let secretKey = randomBytes(32);
  if (c.SECRET_KEY) {
    const decoded = Buffer.from(c.SECRET_KEY, 'base64');
    if (decoded.length !== 32) {
      problems.push(
        'SECRET_KEY: must be 32 bytes in base64; make one with: openssl rand -base64 32',
      );
    } else secretKey = decoded;
  } else if (store !== 'memory') {
    problems.push(
      `SECRET_KEY: required with STORE=${store} (every instance must share it); make one with: openssl rand -base64 32`,
    );
  }
  const texts = c.SECRET_KEY_PREVIOUS ?? [];
  if (texts.length > 0 && !c.SECRET_KEY) {
    problems.push(
      'SECRET_KEY_PREVIOUS: only with SECRET_KEY (the current key); previous keys are opened beside it until rotate-secrets re-sealed everything',
    );
  }
  const previous: Buffer[] = [];
  texts.forEach((text, i) => {
    const decoded = Buffer.from(text, 'base64');
    const which = `SECRET_KEY_PREVIOUS: key ${i + 1} of ${texts.length}`;
    if (decoded.length !== 32) problems.push(`${which} must be 32 bytes in base64`);
    else if (decoded.equals(secretKey)) {
      problems.push(`${which} is SECRET_KEY itself; list only rotated-out keys`);
    } else if (previous.some((p) => p.equals(decoded))) {
      problems.push(`${which} is listed twice; list each key once`);
    } else previous.push(decoded);
  });
  return { SECRET_KEY: secretKey, SECRET_KEY_PREVIOUS: previous };
}
