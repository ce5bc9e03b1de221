/**
 * PostgreSQL for tests. The server is, in this order: `TEST_POSTGRES_URL` when given; else the one
 * answering on 127.0.0.1:5432 (user postgres, trust auth, database test); else one of our own,
 * started once per run from Debian's `initdb` in a temporary folder (as the `postgres` user when we
 * are root, since PostgreSQL refuses root) on a free port, and stopped by the global teardown.
 * Tests never use a database they did not create: `createTestDatabase` makes one with a random name
 * and drops only that one. `startPostgresServer` gives a private, restartable server (stop and start
 * on the same data) for tests that restart PostgreSQL.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../scripts/lib/redis-server.js';

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';
const INSTALL_HINT = 'install it: apt-get install postgresql';

/** A PostgreSQL binary (`initdb`, `postgres`): on PATH, else Debian's newest /usr/lib/postgresql. */
export function postgresBinary(name: 'initdb' | 'postgres'): string | undefined {
  if (spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0) return name;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const path = join(root, version, 'bin', name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** True when a server answers `SELECT 1` at `url` within `timeoutMs`. */
export async function postgresAnswers(url: string, timeoutMs = 2_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A private PostgreSQL server: `stop()` then `start()` runs it again on the same data and port. */
export interface PostgresServer {
  /** URL of its `postgres` database as the `postgres` user. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The postmaster's pid while it runs (for a test's own signals), else undefined. */
  pid(): number | undefined;
  /** Stops it: `fast` (clean shutdown, SIGINT) or `immediate` (SIGQUIT: a crash, recovered on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same data and port; resolves when it answers. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/** Starts a private server from `initdb` in a temporary folder on a free port. */
export async function startPostgresServer(): Promise<PostgresServer> {
  const initdb = postgresBinary('initdb');
  const postgres = postgresBinary('postgres');
  if (!initdb || !postgres) throw new Error(`initdb/postgres not found (${INSTALL_HINT})`);
  const owner = runAsUser();
  const dir = mkdtempSync(join(tmpdir(), 'streamcast-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  execFileSync(
    initdb,
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...owner,
    },
  );
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child) return;
    const started = spawnPostmaster(postgres, dataDir, dir, port, owner);
    child = started.child;
    const exited = child;
    exited.once('exit', () => {
      if (child === exited) child = undefined;
    });
    await waitUntilAnswering(url, exited, started.stderr);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    const running = child;
    if (!running) return;
    child = undefined;
    if (running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    await exited;
  };
  try {
    await start();
  } catch (error) {
    await stop('immediate');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    dataDir,
    pid: () => child?.pid,
    stop,
    start,
    destroy: async () => {
      await stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/** The `postgres` user's ids when we are root (PostgreSQL refuses to run as root), else undefined. */
function runAsUser(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root and there is no postgres user to run PostgreSQL as');
  }
}

function spawnPostmaster(
  postgres: string,
  dataDir: string,
  socketDir: string,
  port: number,
  owner: Owner | undefined,
): { child: ChildProcess; stderr: () => string } {
  const args = ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir];
  // a test server: no fsync (a commit reaches the OS, so it survives any process kill, not power
  // loss); synchronous_commit stays on, so an immediate stop loses nothing committed
  args.push('-c', 'fsync=off', '-c', 'max_connections=200');
  const child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'], ...owner });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4_000);
  });
  return { child, stderr: () => stderr };
}

async function waitUntilAnswering(
  url: string,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`postgres exited with code ${child.exitCode}: ${stderr()}`);
    }
    if (await postgresAnswers(url, 1_000)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`postgres did not answer at ${url} within 20 s`);
}

let shared: Promise<string | undefined> | undefined;
let sharedServer: PostgresServer | undefined;
let missingReason: string | undefined;

/**
 * The URL of the server tests create their databases on (see the header), or undefined when there
 * is none (then `postgresMissingReason()` says why). Starts our own server at most once per run.
 */
export function testPostgresUrl(): Promise<string | undefined> {
  shared ??= resolveServer();
  return shared;
}

async function resolveServer(): Promise<string | undefined> {
  const given = process.env.TEST_POSTGRES_URL;
  if (given) return given;
  if (await postgresAnswers(LOCAL_URL)) return LOCAL_URL;
  if (!postgresBinary('initdb') || !postgresBinary('postgres')) {
    missingReason = `no PostgreSQL at 127.0.0.1:5432 and initdb is not installed (${INSTALL_HINT})`;
    return undefined;
  }
  sharedServer = await startPostgresServer();
  process.stdout.write(`  (test postgres on ${sharedServer.url})\n`);
  return sharedServer.url;
}

/** Why PostgreSQL tests are skipped, if they are. */
export function postgresMissingReason(): string {
  return missingReason ?? 'no PostgreSQL for tests';
}

/** Stops the server `testPostgresUrl` started, if it did (the global teardown calls this). */
export async function stopSharedPostgres(): Promise<void> {
  await sharedServer?.destroy();
  sharedServer = undefined;
  shared = undefined;
}

/** A database a test created; `drop()` removes it (and only it). */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a database with a random name on the server at `serverUrl` (default: the test server). */
export async function createTestDatabase(label = 't', serverUrl?: string): Promise<TestDatabase> {
  const server = serverUrl ?? (await testPostgresUrl());
  if (!server) throw new Error(postgresMissingReason());
  const name = `sc_${label.replace(/\W/g, '_')}_${randomBytes(5).toString('hex')}`.toLowerCase();
  await adminQuery(server, `CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Declares a suite that needs PostgreSQL: under `CI=true` a missing server fails it; locally it
 * skips with the printed reason.
 */
export function describeWithPostgres(title: string, body: (this: Mocha.Suite) => void): void {
  describe(title, function () {
    before(async function () {
      if (await testPostgresUrl()) return;
      const reason = postgresMissingReason();
      if (process.env.CI === 'true') throw new Error(`PostgreSQL tests cannot run: ${reason}`);
      process.stdout.write(`    skipped "${title}": ${reason}\n`);
      this.skip();
    });
    body.call(this);
  });
}

/**
 * For a `before` hook: when `reason` names something missing, fails under CI=true and otherwise
 * skips the suite, printing why (the rule every suite that needs a binary or server follows).
 */
export function skipWhenMissing(
  ctx: Mocha.Context,
  title: string,
  reason: string | undefined,
): void {
  if (reason === undefined) return;
  if (process.env.CI === 'true') throw new Error(`${title} cannot run: ${reason}`);
  process.stdout.write(`    skipped "${title}": ${reason}\n`);
  ctx.skip();
}
