import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/index.js';

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.fail('expected a ConfigError');
}

const key = Buffer.alloc(32, 7).toString('base64');

describe('config', () => {
  it('fills the defaults of SPEC.md §2 and picks the memory store without REDIS_URL', () => {
    const c = loadConfig({});
    expect(c).to.include({
      PORT: 8080,
      STORE: 'memory',
      KEY_PREFIX: 'sc',
      AUTH_MODE: 'none',
      COMMAND_TIMEOUT_MS: 30000,
      COMMAND_MAX_ATTEMPTS: 3,
      COMMAND_DEDUP_TTL_S: 86400,
      MAX_EVENT_BYTES: 65536,
      MAX_NOTIFICATION_BYTES: 16384,
      NOTIFY_RETENTION: 100000,
      SSE_MAX_CONNECTIONS: 10000,
      SSE_MAX_CONNECTIONS_PER_USER: 32,
      JWT_REQUIRE_EXP: true,
      JWT_MAX_LIFETIME_S: 86400,
      SSE_MAX_SESSIONS_PER_USER: 64,
      SSE_STALL_TIMEOUT_MS: 30000,
      SSE_MAX_FILTERS: 16,
      SSE_MAX_FILTER_VALUES: 32,
      DEPLOY_RUNNER: 'simulated',
      TRAINER_SPEED: 5,
      LOG_LEVEL: 'info',
      RPC_MAX_RESPONSE_BYTES: 16777216,
    });
    expect(c.SERVER_ID).to.match(/^[A-Za-z0-9._:-]+-[0-9a-f]{8}$/);
    expect(c.SECRET_KEY).to.have.length(32);
  });

  it('picks Redis when REDIS_URL is set and then requires a 32-byte SECRET_KEY', () => {
    expect(problemsOf({ REDIS_URL: 'redis://localhost:6379' })).to.deep.equal([
      'SECRET_KEY: required with STORE=redis (every instance must share it); make one with: openssl rand -base64 32',
    ]);
    expect(problemsOf({ REDIS_URL: 'redis://x', SECRET_KEY: 'c2hvcnQ=' })[0]).to.match(
      /^SECRET_KEY: must be 32 bytes/,
    );
    const c = loadConfig({ REDIS_URL: 'redis://localhost:6379', SECRET_KEY: key });
    expect(c.STORE).to.equal('redis');
    expect(c.SECRET_KEY.equals(Buffer.alloc(32, 7))).to.equal(true);
  });

  it('reports every problem at once, one line per key', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      COMMAND_MAX_ATTEMPTS: '0',
      REDIS_URL: 'http://x',
    });
    expect(problems.map((p) => p.split(':')[0])).to.have.members([
      'PORT',
      'LOG_LEVEL',
      'COMMAND_MAX_ATTEMPTS',
      'REDIS_URL',
    ]);
  });

  it('refuses an RPC_MAX_RESPONSE_BYTES that cannot hold the largest event', () => {
    expect(problemsOf({ MAX_EVENT_BYTES: '65536', RPC_MAX_RESPONSE_BYTES: '70000' })).to.deep.equal(
      [
        'RPC_MAX_RESPONSE_BYTES: must be at least MAX_EVENT_BYTES + 8192 (73728), so that a response can hold the largest event',
      ],
    );
    expect(loadConfig({ RPC_MAX_RESPONSE_BYTES: '73728' }).RPC_MAX_RESPONSE_BYTES).to.equal(73728);
  });

  it('refuses development shortcuts in production', () => {
    const problems = problemsOf({
      NODE_ENV: 'production',
      STREAMCAST_FAULT: 'exit-before-commit:0.05',
    });
    expect(problems.join('\n')).to.include('STORE: the in-memory store is refused');
    expect(problems.join('\n')).to.include('AUTH_MODE: "none" is refused');
    expect(problems.join('\n')).to.include(
      'STREAMCAST_FAULT: the test-only fault switch is refused',
    );
  });

  it('needs a JWT key source with AUTH_MODE=jwt', () => {
    expect(problemsOf({ AUTH_MODE: 'jwt' })).to.deep.equal([
      'JWT_SECRET or JWT_JWKS_URL: one is required with AUTH_MODE=jwt',
    ]);
  });

  it('takes JWT_SECRET_PREVIOUS as a comma list of long secrets, beside JWT_SECRET only', () => {
    const a = 'a'.repeat(32);
    const b = 'b'.repeat(40);
    expect(
      loadConfig({ JWT_SECRET: 'c'.repeat(32), JWT_SECRET_PREVIOUS: `${a}, ${b}` })
        .JWT_SECRET_PREVIOUS,
    ).to.deep.equal([a, b]);
    expect(
      problemsOf({ JWT_SECRET: 'c'.repeat(32), JWT_SECRET_PREVIOUS: `${a},short` })[0],
    ).to.match(/^JWT_SECRET_PREVIOUS: each secret must be at least 32 characters/);
    expect(problemsOf({ JWT_SECRET_PREVIOUS: a })[0]).to.match(
      /^JWT_SECRET_PREVIOUS: only with JWT_SECRET/,
    );
  });

  it('takes SECRET_KEY_PREVIOUS as a comma list of 32-byte keys, beside SECRET_KEY only', () => {
    const b = Buffer.alloc(32, 8).toString('base64');
    const c = Buffer.alloc(32, 9).toString('base64');
    const loaded = loadConfig({ SECRET_KEY: key, SECRET_KEY_PREVIOUS: `${b}, ${c}` });
    expect(loaded.SECRET_KEY_PREVIOUS.map((k) => k[0])).to.deep.equal([8, 9]);
    expect(loadConfig({}).SECRET_KEY_PREVIOUS).to.deep.equal([]);
    // every problem reported with the others, one line each
    expect(
      problemsOf({
        STORE: 'redis',
        SECRET_KEY: key,
        SECRET_KEY_PREVIOUS: `${b},c2hvcnQ=,${key},${b}`,
      }),
    ).to.deep.equal([
      'REDIS_URL: required with STORE=redis (e.g. redis://127.0.0.1:6379), or REDIS_CLUSTER_NODES for a Redis Cluster',
      'SECRET_KEY_PREVIOUS: key 2 of 4 must be 32 bytes in base64',
      'SECRET_KEY_PREVIOUS: key 3 of 4 is SECRET_KEY itself; list only rotated-out keys',
      'SECRET_KEY_PREVIOUS: key 4 of 4 is listed twice; list each key once',
    ]);
    expect(problemsOf({ SECRET_KEY_PREVIOUS: b })[0]).to.match(
      /^SECRET_KEY_PREVIOUS: only with SECRET_KEY/,
    );
  });

  it('refuses CORS_ORIGINS entries that are not origins, and null above all', () => {
    const problems = problemsOf({ CORS_ORIGINS: 'null, https://ok.example.com,*,example.com/x' });
    expect(problems).to.have.length(2);
    expect(problems[0]).to.match(/^CORS_ORIGINS: "null" is never allowed/);
    expect(problems[1]).to.match(/^CORS_ORIGINS: "example.com\/x" is not an origin/);
    expect(
      loadConfig({ CORS_ORIGINS: 'https://a.example.com/, http://localhost:3000,*' }).CORS_ORIGINS,
    ).to.deep.equal(['https://a.example.com/', 'http://localhost:3000', '*']);
  });

  it('takes ARCHIVE_URL as a postgres:// URL, with Redis only, and ARCHIVE_BATCH 1-10000', () => {
    const redis = { REDIS_URL: 'redis://r:6379', SECRET_KEY: key };
    const url = 'postgres://u:pw-secret@db:5432/archive';
    expect(loadConfig({ ...redis, ARCHIVE_URL: url })).to.include({
      ARCHIVE_URL: url,
      ARCHIVE_BATCH: 500,
    });
    expect(loadConfig({})).to.not.have.property('ARCHIVE_URL');
    const problems = [
      ...problemsOf({ ...redis, ARCHIVE_URL: 'mysql://u:pw-secret@db/x', ARCHIVE_BATCH: '0' }),
      ...problemsOf({ ARCHIVE_URL: url }),
      ...problemsOf({ ...redis, ARCHIVE_BATCH: '10001' }),
    ];
    expect(problems).to.deep.equal([
      'ARCHIVE_URL: must start with postgres:// or postgresql://',
      'ARCHIVE_BATCH: Too small: expected number to be >=1',
      'ARCHIVE_URL: only with Redis (the in-memory store keeps nothing past a restart to archive); set REDIS_URL or unset ARCHIVE_URL',
      'ARCHIVE_BATCH: must be at most 10000',
    ]);
    expect(problems.join('\n'), 'the password never shows').to.not.contain('pw-secret');
  });

  it('reads booleans as true or false (JWT_REQUIRE_EXP)', () => {
    expect(loadConfig({ JWT_REQUIRE_EXP: 'false' }).JWT_REQUIRE_EXP).to.equal(false);
    expect(loadConfig({ JWT_REQUIRE_EXP: '1' }).JWT_REQUIRE_EXP).to.equal(true);
    expect(problemsOf({ JWT_REQUIRE_EXP: 'no' })[0]).to.match(
      /^JWT_REQUIRE_EXP: must be true or false/,
    );
  });

  it('reads CONFIG_FILE under the environment, which wins, and names unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-config-'));
    const file = join(dir, 'streamcast.yaml');
    writeFileSync(file, 'PORT: 9000\nKEY_PREFIX: fromfile\nTRAINER_SPEED: 2.5\n');
    const c = loadConfig({ CONFIG_FILE: file, KEY_PREFIX: 'fromenv' });
    expect(c).to.include({ PORT: 9000, KEY_PREFIX: 'fromenv', TRAINER_SPEED: 2.5 });
    writeFileSync(file, 'PORTT: 9000\n');
    expect(problemsOf({ CONFIG_FILE: file })).to.deep.equal([
      `PORTT: unknown key in ${file} (see SPEC.md §2 for the keys)`,
    ]);
    expect(problemsOf({ CONFIG_FILE: join(dir, 'missing.yaml') })[0]).to.match(
      /^CONFIG_FILE: cannot read/,
    );
  });

  it('ignores empty variables and unrelated environment', () => {
    const c = loadConfig({ PORT: '', HOME: '/root', PATH: '/bin' });
    expect(c.PORT).to.equal(8080);
  });

  it('STORE=eventstoredb: needs its connection string and Redis, one partition, nothing to trim', () => {
    const esdb = { STORE: 'eventstoredb', SECRET_KEY: key };
    const ok = loadConfig({
      ...esdb,
      REDIS_URL: 'redis://127.0.0.1:6379',
      EVENTSTORE_CONNECTION_STRING: 'esdb://admin:changeit@127.0.0.1:2113?tls=false',
      EVENTSTORE_STREAM_PREFIX: 'app1.',
    });
    expect(ok).to.include({ STORE: 'eventstoredb', EVENTSTORE_STREAM_PREFIX: 'app1.' });
    expect(problemsOf(esdb)).to.deep.equal([
      'EVENTSTORE_CONNECTION_STRING: required with STORE=eventstoredb (e.g. esdb://127.0.0.1:2113?tls=false)',
      'REDIS_URL: required with STORE=eventstoredb too (commands, outcomes, notifications, read models and SSE stay on Redis), or REDIS_CLUSTER_NODES',
    ]);
    expect(
      problemsOf({
        ...esdb,
        REDIS_URL: 'redis://127.0.0.1:6379',
        EVENTSTORE_CONNECTION_STRING: 'http://127.0.0.1:2113',
        PARTITIONS: '4',
        LOG_RETENTION_MS: '60000',
        REDIS_WAIT_REPLICAS: '1',
      }),
    ).to.deep.equal([
      'EVENTSTORE_CONNECTION_STRING: must start with esdb:// or esdb+discover:// (e.g. esdb://127.0.0.1:2113?tls=false)',
      "PARTITIONS: must be 1 with STORE=eventstoredb (EventStoreDB's $all is one log; got 4)",
      'ARCHIVE_URL and LOG_RETENTION_MS: not with STORE=eventstoredb (EventStoreDB keeps the whole history; nothing of the log is in Redis to trim or archive); unset them',
      'REDIS_WAIT_REPLICAS: not with STORE=eventstoredb (its outcomes are written by the notifier, which does not WAIT); set it to 0',
    ]);
  });
});
