/**
 * The abuse suite of the hardening issue's JSON-RPC and REST findings: for each, the request that
 * exploited it is sent to a real instance on a real Redis, gets its refusal (or its bounded
 * answer), and the instance keeps answering `/healthz` within a generous bound meanwhile.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { AppProcess } from '../../scripts/lib/app-process.js';
import {
  DEFAULT_STORE_SETTINGS,
  keysFor,
  RedisEventStore,
  type RpcCallError,
} from '../../src/index.js';
import { connectBoth } from '../support/deployments.js';
import { checkHealthDuringEach } from '../support/health-watch.js';
import { readyStatus } from '../support/readiness.js';
import { rpcAs } from '../support/realtime.js';
import { describeWithRedis, type QuietInstance, startQuietInstance } from '../support/redis.js';
import { type OpenedStream, openStream } from '../support/sse-open.js';

const BUDGET = 1_048_576;
const MARKER = 'ghp_AbuseSuiteMarker0123456789abcdef';
const say = (line: string) => process.stdout.write(`      ${line}\n`);

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
async function postJson(url: string, body: string, headers: Record<string, string>): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

/** Calls of one Redis command since the server started (INFO commandstats). */
async function calls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a refusal'),
    (error: unknown) => error as RpcCallError,
  );

describeWithRedis(
  'abuse (a real instance on Redis): each exploit of the JSON-RPC and REST findings is refused',
  function () {
    this.timeout(120_000);
    let redis: Redis;
    let prefix: string;
    let app: AppProcess;
    let instance: QuietInstance;
    const streams: OpenedStream[] = [];

    before(async () => {
      instance = await startQuietInstance('abuserpc', {
        LOG_LEVEL: 'debug',
        RPC_MAX_RESPONSE_BYTES: String(BUDGET),
        COMMAND_TIMEOUT_MS: '2000',
        PRESENCE_TTL_MS: '900',
        DEPLOY_SIM_STEP_MS: '10',
      });
      ({ app, redis, prefix } = instance);
      expect(await readyStatus(app.url, 20_000)).to.equal(200);
    });
    after(() => instance?.stop());
    checkHealthDuringEach(
      () => app.url,
      () => {
        for (const s of streams.splice(0)) s.close();
      },
    );

    it('bounds a batch of 100 whole-stream reads by RPC_MAX_RESPONSE_BYTES, pages cut short', async () => {
      const store = new RedisEventStore(redis, keysFor(prefix), {
        ...DEFAULT_STORE_SETTINGS,
        serverId: 'abuse',
      });
      const blob = 'x'.repeat(60_000);
      for (let i = 0; i < 100; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, () =>
            store.append('trainer-ash', [{ type: 'Heavy', data: { blob } }]),
          ),
        );
      } // 6 MB in one stream: 100 whole reads would be 600 MB
      const batch = Array.from({ length: 100 }, (_, id) => ({
        jsonrpc: '2.0',
        id,
        method: 'events.read',
        params: { streamId: 'trainer-ash', limit: 1000 },
      }));
      const answer = await postJson(`${app.url}/rpc`, JSON.stringify(batch), {
        'content-type': 'application/json',
        'x-user-id': 'ash',
      });
      expect(answer.status).to.equal(200);
      expect(answer.text.length, 'the whole answer').to.be.at.most(BUDGET + 100 * 200);
      const pages = answer.json.map(
        (a: { result: { events: unknown[]; isEnd: boolean } }) => a.result,
      );
      const events = pages.reduce((n: number, p: { events: unknown[] }) => n + p.events.length, 0);
      expect(events).to.be.within(1, 18);
      expect(pages.every((p: { isEnd: boolean }) => !p.isEnd)).to.equal(true);
      say(
        `100 whole-stream reads of 6 MB: one ${(answer.text.length / 1024).toFixed(0)} KB answer, ${events} events, every page cut short`,
      );
    });

    it('waits for minPosition on announcements, not by polling Redis for each of 100 waits', async () => {
      const before = await calls(redis, 'hmget');
      const batch = Array.from({ length: 100 }, (_, id) => ({
        jsonrpc: '2.0',
        id,
        method: 'trainer.get',
        params: { trainerId: 'ash', minPosition: '9999999999999-0' },
      }));
      const answer = await postJson(`${app.url}/rpc`, JSON.stringify(batch), {
        'content-type': 'application/json',
        'x-user-id': 'ash',
      });
      const codes = new Set(answer.json.map((a: { error?: { code: number } }) => a.error?.code));
      expect([...codes]).to.deep.equal([-32032]);
      const reads = (await calls(redis, 'hmget')) - before;
      // polling every 20 ms for COMMAND_TIMEOUT_MS (2 s) was ~100 reads per wait: 10 000
      expect(reads, 'checkpoint reads for 100 waits of 2 s').to.be.below(1000);
      say(`100 waits of 2 s that never arrive: ${reads} HMGET on Redis (polling: ~10 000)`);
    });

    it('shows connected user ids to admins only', async () => {
      streams.push(await openStream(`${app.url}/events?userId=secret-user-7`));
      type Status = { presence: { connectedUsers: number; users?: string[] }[] };
      let status: Status | undefined;
      for (let i = 0; i < 50 && !status?.presence.some((p) => p.connectedUsers > 0); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = await rpcAs(app.url, 'eve').call<Status>('system.status');
      }
      expect(status!.presence.map((p) => p.connectedUsers)).to.deep.equal([1]);
      expect(JSON.stringify(status)).to.not.include('secret-user-7');
      const admin = await rpcAs(app.url, 'oak', { 'X-User-Roles': 'admin' }).call<Status>(
        'system.status',
      );
      expect(admin.presence[0]!.users).to.deep.equal(['secret-user-7']);
    });

    it('refuses deploy.start with owner, repo or branch that connect.github refuses, writing nothing', async () => {
      const connections = await connectBoth(app.url, 'ash');
      const keysBefore = (await redis.keys(keysFor(prefix).stream('deployment-*'))).length;
      const refused = await refusal(
        rpcAs(app.url, 'ash').call('deploy.start', {
          ...connections,
          owner: '-org; rm -rf /',
          repo: '../../etc',
          branch: 'main\nInjected: yes',
        }),
      );
      expect(refused.code).to.equal(-32602);
      expect((refused.data as { path: string }[]).map((i) => i.path)).to.deep.equal([
        'owner',
        'repo',
        'branch',
      ]);
      expect((await redis.keys(keysFor(prefix).stream('deployment-*'))).length).to.equal(
        keysBefore,
      );
    });

    it('answers malformed REST JSON with the JSON error body, logging none of it', async () => {
      const answer = await postJson(
        `${app.url}/api/v1/sse/subscribe`,
        `{"sessionId":"${MARKER}",`,
        {
          'content-type': 'application/json',
          'x-user-id': 'ash',
        },
      );
      expect([answer.status, answer.json.errorCode]).to.deep.equal([400, 'INVALID_JSON']);
      expect(app.output()).to.not.include(MARKER);
    });

    it("answers another user's deployment and session like missing ones, under unguessable ids", async () => {
      const connections = await connectBoth(app.url, 'ash');
      const { deploymentId } = await rpcAs(app.url, 'ash').call<{ deploymentId: string }>(
        'deploy.start',
        {
          ...connections,
          owner: 'your-org',
          repo: 'your-repo',
          branch: 'main',
        },
      );
      expect(deploymentId).to.match(/^dep_[0-9a-f]{32}$/);
      const misty = rpcAs(app.url, 'misty');
      const other = await refusal(misty.call('deploy.get', { deploymentId }));
      const missing = await refusal(
        misty.call('deploy.get', { deploymentId: `dep_${'0'.repeat(32)}` }),
      );
      expect([other.code, missing.code]).to.deep.equal([-32004, -32004]);
      streams.push(await openStream(`${app.url}/events?userId=ash&sessionId=ash-tab-9`));
      const subscribe = (sessionId: string) =>
        fetch(`${app.url}/api/v1/sse/subscribe`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': 'misty' },
          body: JSON.stringify({ sessionId, topics: ['>'] }),
        }).then((r) => r.status);
      expect([await subscribe('ash-tab-9'), await subscribe('nobody-tab')]).to.deep.equal([
        404, 404,
      ]);
    });
  },
);
