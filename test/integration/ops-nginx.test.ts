/**
 * Debian's nginx with the compose file's configuration (deploy/nginx, rendered) in front of
 * `npm run cluster -- --instances 3`: JSON-RPC and an SSE stream through it, backpressure through
 * it, and one instance stopped with SIGTERM under load. Needs nginx: fails under CI without it
 * (.ci/run installs it), skips locally with the reason printed.
 */

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type http from 'node:http';
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { type ClusterProcess, memberLog, startCluster } from '../support/cluster-process.js';
import { eventsByCommand } from '../support/global-log.js';
import { type Nginx, nginxInFrontOf, requireNginx, startNginx } from '../support/nginx.js';
import { watchReadiness } from '../support/readiness.js';
import { describeWithRedis, testClient, testRedisUrl, uniquePrefix } from '../support/redis.js';
import { rpc, trainerLoad, until } from '../support/rpc-load.js';
import { frameReader } from '../support/sse-frames.js';

describeWithRedis('nginx (deploy/nginx) in front of npm run cluster on Redis', function () {
  this.timeout(180_000);
  let cluster: ClusterProcess | undefined;
  let nginx: Nginx | undefined;
  let redis: Redis;
  const prefix = uniquePrefix('nginx');

  before(async function () {
    requireNginx(this);
    redis = testClient();
    cluster = await startCluster(3, {
      REDIS_URL: testRedisUrl(),
      KEY_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('base64'),
      SHUTDOWN_GRACE_MS: '6000',
      LOG_LEVEL: 'http', // request logs, to follow a correlation id from nginx into an instance
    });
    nginx = await startNginx(cluster.members.map((m) => new URL(m.url).host));
  });

  after(async () => {
    await nginx?.stop();
    const code = await cluster?.stop('SIGINT');
    for (const m of cluster?.members ?? []) {
      try {
        process.kill(m.pid, 'SIGKILL');
      } catch {
        // stopped with the cluster
      }
    }
    redis?.disconnect();
    if (cluster) expect(code, 'npm run cluster stopped cleanly on Ctrl-C').to.equal(0);
  });

  it('passes JSON-RPC calls to every instance, with a correlation id and no query string in its log', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const { status, body } = await rpc(nginx!.url, 'system.status', {});
      expect(status).to.equal(200);
      served.add(String(body.result?.serverId));
    }
    expect([...served].sort()).to.deep.equal(cluster!.members.map((m) => m.serverId).sort());
    const secret = `tok-${randomBytes(6).toString('hex')}`;
    const moved = await rpc(
      nginx!.url,
      'trainer.move',
      { action: 'start', directionX: 0, directionY: 1 },
      {},
      `/rpc?access_token=${secret}`,
    );
    expect(moved.body.result).to.include({ trainerId: 'ash', version: 1 });
    const correlationId = moved.headers.get('x-correlation-id');
    expect(correlationId).to.match(/^[0-9a-f]{32}$/); // nginx's $request_id, passed on
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = nginx!.accessLog();
    expect(log)
      .to.include(`"POST /rpc HTTP/1.1" 200`)
      .and.include(`correlation_id=${correlationId}`);
    expect(log).not.to.include(secret);
    expect(log).not.to.include('?');
    expect(cluster!.output()).to.include(`"correlationId":"${correlationId}"`);
    expect((await fetch(`${nginx!.url}/metrics`)).status, '/metrics stays internal').to.equal(404);
  });

  it('carries an SSE stream (GET /events): session.opened, then a notification of a move', async () => {
    const user = `watcher-${randomBytes(3).toString('hex')}`;
    const reading = new AbortController();
    const res = await fetch(`${nginx!.url}/events?topics=trainer.${user}`, {
      headers: { 'x-user-id': user, accept: 'text/event-stream' },
      signal: reading.signal,
    });
    try {
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
      const frames = frameReader(res);
      expect(await frames.next('session.opened')).to.include('"resumedFrom":null');
      const moved = await rpc(
        nginx!.url,
        'trainer.move',
        { action: 'start', directionX: 1, directionY: 1 },
        { 'x-user-id': user },
      );
      expect(moved.body.result).to.include({ trainerId: user });
      expect(await frames.next('position.update')).to.include(`"trainerId":"${user}"`);
    } finally {
      reading.abort();
    }
    await sleep(200);
    expect(nginx!.accessLog()).to.match(/"GET \/events HTTP\/1\.1" 200/);
  });

  it("passes a slow reader's backpressure on to the instance (proxy_buffering off)", async () => {
    // With buffering on, nginx would soak up a stream nobody reads (into memory and temp files),
    // and an instance could never tell a slow client (SSE_MAX_BUFFERED_BYTES, DESIGN.md G7).
    const limit = 48 * 1024 * 1024;
    let written = 0;
    let finished: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const chunk = Buffer.alloc(64 * 1024, 'x');
    await nginxInFrontOf(
      async (res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        while (written < limit) {
          written += chunk.length;
          if (!res.write(chunk) && !(await drainsWithin(res, 1000))) break;
        }
        finished();
        res.destroy();
      },
      async (url) => {
        const reading = new AbortController();
        const res = await fetch(`${url}/events`, { signal: reading.signal });
        expect(res.status).to.equal(200);
        await blocked; // the body is never read
        reading.abort();
      },
    );
    expect(written).to.be.lessThan(limit);
  });

  it('loses and doubles no command when an instance gets SIGTERM under load; readiness 503 first', async () => {
    const victim = cluster!.members[1]!;
    const load = trainerLoad(nginx!.url, 12);
    await until(() => load.done() >= 150, 30_000);
    const readiness = watchReadiness(victim.url);
    const sigtermAt = Date.now();
    process.kill(victim.pid, 'SIGTERM');
    const exitLine = await cluster!.waitForLine(
      new RegExp(`\\[cluster\\] ${victim.serverId} exited`),
      30_000,
    );
    const exitedAt = Date.now();
    const afterExit = () => load.sent.filter((s) => s.ok && s.startedAt > exitedAt).length;
    await until(() => afterExit() >= 150, 30_000);
    await load.stop();

    expect(exitLine).to.include('exited with code 0');
    const failed = load.sent.filter((s) => !s.ok);
    expect(
      failed.map((s) => s.lastProblem),
      'every command answered',
    ).to.deep.equal([]);

    const answers = await readiness;
    const first503 = answers.find((a) => a.status === 503 && a.at >= sigtermAt);
    const log = memberLog(cluster!, victim);
    const loggedAt = (step: string) => log.find((l) => l.entry.message === `shutdown: ${step}`)?.at;
    const stoppedAccepting = loggedAt('stop accepting connections; answer the requests in flight');
    const stoppedReading = loggedAt(
      'stop reading commands and deployment jobs; finish or release those in flight',
    );
    expect(stoppedAccepting, 'logged when it stopped accepting').to.be.a('number');
    expect(first503, 'readiness seen at 503').not.to.equal(undefined);
    expect(first503!.at).to.be.lessThan(stoppedAccepting!);
    expect(stoppedAccepting).to.be.at.most(stoppedReading!);

    const victimServed = log
      .filter((l) => l.entry.message === 'request' && l.entry.url === '/rpc')
      .map((l) => l.at);
    expect(
      victimServed.filter((t) => t < sigtermAt).length,
      'the victim had its share',
    ).to.be.greaterThan(0);
    expect(
      victimServed.filter((t) => t > sigtermAt && t < stoppedAccepting!).length,
      'it kept serving while readiness was 503',
    ).to.be.greaterThan(0);

    const later = load.sent.filter((s) => s.startedAt > exitedAt);
    expect(
      later.every((s) => s.ok && s.attempts === 1),
      'calls after the exit succeed at once',
    ).to.equal(true);

    const events = await eventsByCommand(redis, prefix);
    const moves = load.sent.map((s) => s.commandId);
    const counts = moves.map((id) => events.get(id) ?? 0);
    expect(counts.filter((c) => c === 0).length, 'commands lost').to.equal(0);
    expect(counts.filter((c) => c > 1).length, 'commands applied twice').to.equal(0);
    const retried = load.sent.filter((s) => s.attempts > 1).length;
    process.stdout.write(
      `      ${moves.length} commands through nginx, ${retried} sent again after a proxy error, victim stopped ${exitedAt - sigtermAt} ms after SIGTERM\n`,
    );
  });
});

/** True if `res` drains within `ms`. */
async function drainsWithin(res: http.ServerResponse, ms: number): Promise<boolean> {
  return Promise.race([once(res, 'drain').then(() => true), sleep(ms).then(() => false)]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
