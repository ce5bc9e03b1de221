import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { type RpcCallError, RpcClient } from '../../src/client/index.js';
import { RESULT_FIELDS, type RedisClient, STAGE_ERROR_CODES } from '../../src/index.js';
import { connectBoth, readDeployEvents, untilFinished } from '../support/deployments.js';
import { readyStatus } from '../support/readiness.js';
import { clearPrefix, uniquePrefix } from '../support/redis.js';
import { SseClient } from '../support/sse.js';
import { describeOnTopologies } from '../support/topologies.js';

/** Steps of stages 1–6 in seed 003 (4 + 4 + 3 + 6 + 9 + 1). */
const STEPS = 27;

describeOnTopologies(
  'deployments (seed 003) over JSON-RPC and REST',
  function (topology) {
    this.timeout(180_000);
    let redis: RedisClient;
    /** A deployment's events, read through events.read as an admin (on every store alike). */
    const eventsOf = async (app: AppProcess, deploymentId: string) => {
      const admin = new RpcClient({
        url: app.url,
        headers: { 'X-User-Id': 'ops', 'X-User-Roles': 'admin' },
      });
      const page = await admin.call<{ events: { type: string; data: Record<string, unknown> }[] }>(
        'events.read',
        { streamId: `deployment-${deploymentId}`, limit: 1000 },
      );
      return page.events;
    };
    let prefix: string;
    const apps: AppProcess[] = [];
    const secret = randomBytes(32).toString('base64');

    const start = async (env: Record<string, string> = {}) => {
      const app = await startApp({
        ...topology().env(),
        SECRET_KEY: secret,
        KEY_PREFIX: prefix,
        DEPLOY_SIM_STEP_MS: '5',
        COMMAND_CLAIM_IDLE_MS: '1000',
        LOG_LEVEL: 'info',
        ...env,
      });
      apps.push(app);
      expect(await readyStatus(app.url), 'ready').to.equal(200);
      return app;
    };
    const rpc = (app: AppProcess, userId = 'ash') =>
      new RpcClient({ url: app.url, headers: { 'X-User-Id': userId } });
    const deploy = async (app: AppProcess, repo: string, userId = 'ash') => {
      const connections = await connectBoth(app.url, userId);
      return rpc(app, userId).call<{ deploymentId: string }>('deploy.start', {
        ...connections,
        owner: 'your-org',
        repo,
        branch: 'main',
      });
    };
    /** Waits (generously) until a deployment reports `status`. */
    const untilStatus = async (
      app: AppProcess,
      started: { deploymentId: string },
      status: string,
    ) => {
      for (let waited = 0; waited < 30_000; waited += 20) {
        // not found until the projection has folded its start
        const got = await rpc(app)
          .call<{ status: string }>('deploy.get', started)
          .catch(() => ({ status: 'unknown' }));
        if (got.status === status) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`deployment ${started.deploymentId} never reached ${status}`);
    };

    before(() => {
      redis = topology().client();
    });
    after(() => redis.disconnect());
    beforeEach(() => {
      prefix = uniquePrefix('dp');
    });
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((a) => a.stop()));
      await clearPrefix(redis, prefix);
    });

    it('runs stages 1-6 to COMPLETED with every result field, over JSON-RPC, notifying its starter', async () => {
      const app = await start();
      const ash = new SseClient(app.url, { userId: 'ash', topics: 'deployment.*' });
      const misty = new SseClient(app.url, { userId: 'misty' });
      await ash.until((c) => c.of('session.opened').length > 0);
      await misty.until((c) => c.of('session.opened').length > 0);
      const { deploymentId } = await deploy(app, 'shop');
      expect(deploymentId).to.match(/^dep_[0-9a-f]{32}$/);
      const done = await untilFinished(app.url, 'ash', deploymentId);
      expect(done.status).to.equal('COMPLETED');
      const result = await rpc(app).call<Record<string, unknown>>('deploy.result', {
        deploymentId,
      });
      expect(Object.keys(result)).to.deep.equal(RESULT_FIELDS);
      expect(result).to.include({
        status: 'COMPLETED',
        repo: 'shop',
        finalService: 'green',
        blueUrl: 'http://blue.shop.local',
        greenUrl: 'http://green.shop.local',
        errorMessage: null,
        errorCode: null,
      });
      for (const f of [
        'blueLatencyMs',
        'greenLatencyMs',
        'blueErrorRate',
        'greenErrorRate',
        'durationSeconds',
      ]) {
        expect(result[f], f).to.be.a('number');
      }
      const length = (await eventsOf(app, deploymentId)).length;
      expect(result.eventCount, 'events in the stream').to.equal(length);
      await ash.until((c) => c.of('deployment.done').length > 0, 10_000, 'deployment.done');
      expect(ash.of('deployment.stage')).to.have.length(STEPS);
      expect(ash.of('deployment.done')[0]!.params).to.include({
        deploymentId,
        message: 'Deployment completed successfully',
      });
      const leaked = misty.frames.filter((f) => f.event.startsWith('deployment.'));
      expect(leaked, "another user's notifications").to.deep.equal([]);
      ash.close();
      misty.close();
      const other = await rpc(app, 'misty')
        .call('deploy.result', { deploymentId })
        .catch((e: unknown) => e);
      const missing = await rpc(app, 'misty')
        .call('deploy.get', { deploymentId: 'dep_0000000000' })
        .catch((e: unknown) => e);
      expect([(other as RpcCallError).code, (other as RpcCallError).data]).to.deep.equal([
        -32004,
        { kind: 'deployment', id: deploymentId },
      ]);
      expect((missing as RpcCallError).code, 'the same answer as a missing one').to.equal(-32004);
    });

    it('runs over REST with the seed envelope; a late SSE client gets the whole history, then 204', async () => {
      const app = await start();
      const connections = await connectBoth(app.url, 'ash');
      const started = await fetch(`${app.url}/api/v1/deploy`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'ash' },
        body: JSON.stringify({ ...connections, owner: 'your-org', repo: 'shop', branch: 'main' }),
      });
      expect(started.status).to.equal(200);
      const body = (await started.json()) as {
        code: number;
        data: { deploymentId: string; message: string };
      };
      expect(body.code).to.equal(200);
      const { deploymentId } = body.data;
      expect(body.data.message).to.equal(
        `Deployment started. Listen to /api/v1/deploy/${deploymentId}/events`,
      );
      const live = await readDeployEvents(app.url, 'ash', deploymentId);
      const late = await readDeployEvents(app.url, 'ash', deploymentId); // after the end: the whole history
      for (const { frames } of [live, late]) {
        expect(frames.filter((f) => f.event === 'stage')).to.have.length(STEPS);
        expect(frames.at(-1)!.event).to.equal('done');
        expect(frames.at(-1)!.data).to.deep.equal({ message: 'Deployment completed successfully' });
        const stages = frames
          .filter((f) => f.event === 'stage')
          .map((f) => (f.data.details as { stage: number }).stage);
        expect(stages).to.deep.equal([...stages].sort((a, b) => a - b));
      }
      expect(late.frames[0]!.data).to.deep.equal({
        type: 'stage',
        message: '[Stage 1] Dockerfile search and Docker build - cloning the repository...',
        details: { stage: 1 },
      });
      const again = await readDeployEvents(app.url, 'ash', deploymentId, {
        'Last-Event-ID': late.frames.at(-1)!.id,
      });
      expect(again.status, 'a reconnect after the end').to.equal(204);
      expect((await readDeployEvents(app.url, 'ash', 'dep_0000000000')).status).to.equal(404);
      const others = await readDeployEvents(app.url, 'misty', deploymentId);
      expect(others.status, "another user's deployment, answered as a missing one").to.equal(404);
      const result = await fetch(`${app.url}/api/v1/deploy/${deploymentId}/result?userId=ash`);
      const resultBody = (await result.json()) as { code: number; data: Record<string, unknown> };
      expect([result.status, resultBody.code, resultBody.data.status]).to.deep.equal([
        200,
        200,
        'COMPLETED',
      ]);
      const missing = await fetch(`${app.url}/api/v1/deploy/dep_0000000000/result?userId=ash`);
      expect(missing.status).to.equal(400);
      expect(((await missing.json()) as { message: string }).message).to.equal(
        'Deployment result not found: dep_0000000000',
      );
    });

    it('fails fail-at-stage-N with the stage error code, and slow-stage-N with DEPLOYMENT_TIMEOUT', async () => {
      const app = await start({ DEPLOY_STAGE_TIMEOUT_MS: '800' });
      const started = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => deploy(app, `fail-at-stage-${n}`)),
      );
      const slow = await deploy(app, 'slow-stage-2');
      for (const [i, { deploymentId }] of started.entries()) {
        await untilFinished(app.url, 'ash', deploymentId);
        const result = await rpc(app).call<Record<string, unknown>>('deploy.result', {
          deploymentId,
        });
        expect(result, `fail-at-stage-${i + 1}`).to.include({
          status: 'FAILED',
          errorCode: STAGE_ERROR_CODES[i + 1],
          greenUrl: null,
        });
        expect(result.errorMessage).to.be.a('string');
      }
      await untilFinished(app.url, 'ash', slow.deploymentId);
      const timedOut = await fetch(
        `${app.url}/api/v1/deploy/${slow.deploymentId}/result?userId=ash`,
      );
      const data = ((await timedOut.json()) as { data: Record<string, unknown> }).data;
      expect(data).to.include({ status: 'FAILED', errorCode: 'DEPLOYMENT_TIMEOUT' });
      expect(String(data.errorMessage)).to.match(/timed out at Stage 2/);
      const events = await readDeployEvents(app.url, 'ash', slow.deploymentId);
      expect(events.frames.at(-1)).to.include({ event: 'error' });
      expect(events.frames.at(-1)!.data).to.include({ errorCode: 'DEPLOYMENT_TIMEOUT', stage: 2 });
    });

    it('runs real commands with the script runner: output lines, ::set fields, a failing command', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'streamcast-script-'));
      const script = join(dir, 'stages.yaml');
      writeFileSync(
        script,
        [
          `1: echo "building $REPO"; echo "$DEPLOYMENT_ID" > ${dir}/built-$REPO.txt; echo "::set blueUrl=http://blue.custom"`,
          `2: if [ "$REPO" = "broken" ]; then echo "push refused" >&2; exit 3; fi; echo pushed`,
          '6: echo "::set finalService=green"',
        ].join('\n'),
      );
      const app = await start({ DEPLOY_RUNNER: 'script', DEPLOY_SCRIPT_FILE: script });
      const ok = await deploy(app, 'site');
      const broken = await deploy(app, 'broken');
      await untilFinished(app.url, 'ash', ok.deploymentId);
      await untilFinished(app.url, 'ash', broken.deploymentId);
      expect(readFileSync(join(dir, 'built-site.txt'), 'utf8').trim()).to.equal(ok.deploymentId);
      const result = await rpc(app).call<Record<string, unknown>>('deploy.result', ok);
      expect(result).to.include({
        status: 'COMPLETED',
        blueUrl: 'http://blue.custom',
        finalService: 'green',
      });
      const failed = await rpc(app).call<Record<string, unknown>>('deploy.result', broken);
      expect(failed).to.include({ status: 'FAILED', errorCode: 'ECR_PUSH_FAILED' });
      expect(String(failed.errorMessage)).to.match(/exited with code 3: push refused/);
      const frames = (await readDeployEvents(app.url, 'ash', ok.deploymentId)).frames;
      expect(frames.map((f) => f.data.message)).to.include('[Stage 1] building site');
    });

    it('runs ten at once on one instance while the eleventh waits QUEUED; past DEPLOY_MAX_QUEUED the queue is full', async function () {
      this.timeout(300_000);
      // steps long enough that none of the ten finishes before the eleventh is started: ~40 s
      // each on the cluster (ten starts one by one once took ~19 s there), ~27 s on EventStoreDB
      // (8 s there: each start waits for the notifier to queue its job), ~14 s on one redis-server
      const step = { cluster: '1500', eventstoredb: '1000', 'redis-server': '500' }[
        topology().name
      ];
      const app = await start({ DEPLOY_SIM_STEP_MS: step, DEPLOY_MAX_QUEUED: '1' });
      const startedAt = Date.now();
      const started = [];
      // each of the first ten is taken by a runner before the next start (with PARTITIONS > 1 a
      // job can wait a moment for its partition's reader, and would count against the queue bound)
      for (let i = 0; i < 10; i++) {
        started.push(await deploy(app, `r${i}`));
        await untilStatus(app, started[i]!, 'RUNNING');
      }
      started.push(await deploy(app, 'r10'));
      process.stdout.write(
        `      ten started and RUNNING, the eleventh sent, in ${Date.now() - startedAt} ms\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const statuses = await Promise.all(
        started.map((s) => rpc(app).call<{ status: string }>('deploy.get', s)),
      );
      const count = (s: string) => statuses.filter((x) => x.status === s).length;
      expect([count('RUNNING'), count('QUEUED')], JSON.stringify(statuses)).to.deep.equal([10, 1]);
      const full = await deploy(app, 'r11').catch((e: unknown) => e);
      expect((full as RpcCallError).code).to.equal(-32029);
      expect((full as RpcCallError).message).to.match(/^Deployment queue is full/);
      for (const s of started)
        expect((await untilFinished(app.url, 'ash', s.deploymentId, 120_000)).status).to.equal(
          'COMPLETED',
        );
    });

    it('completes a deployment whose instance was SIGKILLed in the middle of stage 3, on another instance', async () => {
      const env = { DEPLOY_SIM_STEP_MS: '250' };
      const [a, b] = [
        await start({ ...env, SERVER_ID: `a-${prefix}` }),
        await start({ ...env, SERVER_ID: `b-${prefix}` }),
      ];
      const { deploymentId } = await deploy(a, 'shop');
      const watching = readDeployEvents(b.url, 'ash', deploymentId);
      let runner = '';
      for (let i = 0; i < 200 && !runner; i++) {
        const events = await eventsOf(a, deploymentId);
        const inStage3 = events.some((e) => e.type === 'StageProgressed' && e.data.stage === 3);
        const claim = events.find((e) => e.type === 'RunnerClaimed');
        if (inStage3 && claim) runner = String(claim.data.serverId);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(runner, 'the deployment reached stage 3').to.not.equal('');
      const victim = runner.startsWith('a-') ? a : b;
      const survivor = victim === a ? b : a;
      await victim.stop('SIGKILL');
      const done = await untilFinished(survivor.url, 'ash', deploymentId, 60_000);
      expect(done.status).to.equal('COMPLETED');
      const { frames } =
        victim === b ? await readDeployEvents(survivor.url, 'ash', deploymentId) : await watching;
      const stages = frames.filter((f) => f.event === 'stage');
      expect(
        stages.map((f) => f.data.message),
        'every step once, in order',
      ).to.have.length(STEPS);
      const order = stages.map((f) => (f.data.details as { stage: number }).stage);
      expect(order).to.deep.equal([...order].sort((x, y) => x - y));
      expect(frames.at(-1)!.event).to.equal('done');
      const claims = (await eventsOf(survivor, deploymentId)).filter(
        (e) => e.type === 'RunnerClaimed',
      );
      process.stdout.write(
        `      runner ${runner} SIGKILLed in stage 3; resumed by ${claims.length - 1} other runner(s); ${stages.length} stage events, each once\n`,
      );
      expect(claims.length, 'RunnerClaimed by the second instance').to.equal(2);
    });
  },
  { eventStoreDb: true },
);
