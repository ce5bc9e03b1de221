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
  profiles?: string[];
  entrypoint?: string[];
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const { services: all } = compose;
/** What `docker compose up` starts: the services of no profile. */
const services = Object.fromEntries(Object.entries(all).filter(([, s]) => !s.profiles));
/** The `cluster` profile's. */
const cluster = Object.fromEntries(
  Object.entries(all).filter(([, s]) => s.profiles?.includes('cluster')),
);
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
  it('lists six services: the store, the archive, three instances and nginx', () => {
    expect(Object.keys(services).sort()).to.deep.equal([
      'app1',
      'app2',
      'app3',
      'nginx',
      'postgres',
      'redis',
    ]);
  });

  it('runs PostgreSQL for the archive on a volume, its password required, and points ARCHIVE_URL at it', () => {
    const postgres = services.postgres!;
    expect(postgres.image).to.match(/^postgres:\d+/);
    expect(postgres.volumes?.[0]).to.match(/:\/var\/lib\/postgresql\/data$/);
    expect(postgres.environment?.POSTGRES_PASSWORD).to.match(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(postgres.healthcheck?.test).to.include('pg_isready');
    expect(postgres.ports, 'not published outside the network').to.equal(undefined);
    for (const name of [...apps, 'cluster-app1', 'cluster-app2', 'cluster-app3']) {
      const app = all[name]!;
      expect(app.environment?.ARCHIVE_URL, name).to.match(
        /^postgres:\/\/streamcast:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/streamcast$/,
      );
      expect(app.depends_on, name).to.deep.include({ postgres: { condition: 'service_healthy' } });
    }
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

  describe('profile cluster (issue 14)', () => {
    const nodes = ['redis-c1', 'redis-c2', 'redis-c3', 'redis-c4', 'redis-c5', 'redis-c6'];
    const clusterApps = ['cluster-app1', 'cluster-app2', 'cluster-app3'];

    it('adds six cluster nodes, a one-shot cluster create, three instances and their nginx', () => {
      expect(Object.keys(cluster).sort()).to.deep.equal(
        [...clusterApps, 'nginx-cluster', ...nodes, 'redis-cluster-init'].sort(),
      );
    });

    it('runs every node in cluster mode with AOF and noeviction, each on a volume of its own', () => {
      const volumes = new Set<string>();
      for (const name of nodes) {
        const node = cluster[name]!;
        expect(node.image, name).to.match(/^redis:7/);
        expect(flags(node.command ?? []), name).to.include({
          'cluster-enabled': 'yes',
          appendonly: 'yes',
          'maxmemory-policy': 'noeviction',
        });
        volumes.add(node.volumes?.[0] ?? '');
      }
      expect(volumes.size).to.equal(6);
    });

    it('creates the cluster once, 3 masters with a replica each, after every node is healthy', () => {
      const init = cluster['redis-cluster-init']!;
      const script = (init.command ?? []).join('\n');
      expect(script).to.include('--cluster create').and.include('--cluster-replicas 1');
      expect(script).to.match(/cluster_state:ok.*exit 0/); // a formed cluster is left alone
      for (const name of nodes) {
        expect(init.depends_on, name).to.deep.include({ [name]: { condition: 'service_healthy' } });
      }
    });

    it('starts the instances on the created cluster with REDIS_CLUSTER_NODES and no REDIS_URL', () => {
      const ids = new Set<string>();
      for (const name of clusterApps) {
        const app = cluster[name]!;
        const env = app.environment ?? {};
        expect(app.build, name).to.equal('.');
        expect(env.REDIS_URL, name).to.equal('');
        expect(env.REDIS_CLUSTER_NODES?.split(','), name).to.have.length(3);
        expect(env.PARTITIONS, name).to.match(/^\$\{PARTITIONS:-\d+\}$/);
        expect(env.REDIS_WAIT_REPLICAS, name).to.match(/^\$\{REDIS_WAIT_REPLICAS:-1\}$/);
        expect(app.depends_on, name).to.deep.equal({
          'redis-cluster-init': { condition: 'service_completed_successfully' },
          postgres: { condition: 'service_healthy' },
        });
        ids.add(env.SERVER_ID ?? '');
      }
      expect(ids.size).to.equal(3);
      const upstreams = cluster['nginx-cluster']!.environment?.STREAMCAST_UPSTREAMS;
      expect(upstreams).to.equal(clusterApps.map((a) => `server ${a}:8080;`).join(' '));
    });
  });
});
