import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { siteEnvironment } from '../../scripts/lib/nginx-config.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown> | string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const { services } = compose;
const apps = ['app1', 'app2', 'app3'];

/** `--flag value` pairs of a command line. */
function flags(command: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < command.length; i++) {
    if (command[i]!.startsWith('--')) out[command[i]!.slice(2)] = command[i + 1] ?? '';
  }
  return out;
}

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1]);

describe('docker-compose.yml (SPEC.md §1)', () => {
  it('lists five services: the store, three instances and nginx', () => {
    expect(Object.keys(services).sort()).to.deep.equal(['app1', 'app2', 'app3', 'nginx', 'redis']);
  });

  it('runs the store with AOF on and maxmemory-policy noeviction, on a volume', () => {
    const redis = services.redis!;
    expect(redis.image).to.match(/^redis:7/);
    const f = flags(redis.command ?? []);
    expect(f).to.include({ appendonly: 'yes', 'maxmemory-policy': 'noeviction' });
    expect(['everysec', 'always']).to.include(f.appendfsync);
    expect(redis.volumes?.[0]).to.match(/:\/data$/);
  });

  it('gives each instance the shared settings and its own SERVER_ID', () => {
    const ids = apps.map((name) => services[name]!.environment?.SERVER_ID);
    expect(new Set(ids).size).to.equal(3);
    for (const name of apps) {
      const app = services[name]!;
      const env = app.environment ?? {};
      expect(app.build, name).to.equal('.');
      expect(env, name).to.include({
        PORT: '8080',
        REDIS_URL: 'redis://redis:6379',
        KEY_PREFIX: 'sc',
      });
      expect(env.SECRET_KEY, name).to.match(/^\$\{SECRET_KEY:\?/); // compose refuses to start without it
      expect(app.depends_on, name).to.deep.include({ redis: { condition: 'service_healthy' } });
      expect(app.healthcheck?.test.join(' '), name).to.include('/readyz');
      expect(app.ports, `${name} is reached through nginx only`).to.equal(undefined);
    }
  });

  it('gives instances longer to stop than their SHUTDOWN_GRACE_MS', () => {
    for (const name of apps) {
      const app = services[name]!;
      const graceS = Number(app.environment?.SHUTDOWN_GRACE_MS) / 1000;
      expect(seconds(app.stop_grace_period ?? '10s'), name).to.be.greaterThan(graceS);
    }
  });

  it('puts nginx on port 8080 with the template and the instances as upstreams', () => {
    const nginx = services.nginx!;
    expect(nginx.image).to.match(/^nginx:/);
    expect(nginx.ports).to.deep.equal(['8080:80']);
    expect(nginx.volumes).to.deep.equal([
      './deploy/nginx/streamcast.conf.template:/etc/nginx/templates/default.conf.template:ro',
    ]);
    const expected = siteEnvironment({
      listen: 80,
      upstreams: apps.map((a) => `${a}:${services[a]!.environment?.PORT}`),
      accessLog: '/var/log/nginx/access.log',
    });
    expect(nginx.environment).to.deep.equal({ NGINX_ENVSUBST_FILTER: '^STREAMCAST_', ...expected });
    expect(nginx.depends_on).to.have.members(apps);
  });
});
