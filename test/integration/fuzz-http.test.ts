import { expect } from 'chai';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import type { AppProcess } from '../../scripts/lib/app-process.js';
import { RPC_CODES } from '../../src/error-codes.js';
import {
  type Body,
  fuzzSettings,
  lastEventId,
  queryParams,
  type RpcSurface,
  restBody,
  rpcBody,
  shortText,
  subscribeBody,
} from '../support/arbitraries.js';
import {
  describeWithRedis,
  keyspaceSnapshot,
  type QuietInstance,
  startQuietInstance,
} from '../support/redis.js';

/**
 * How one request ended: refused (every call in it got an error before any decision) or answered;
 * and whether it may have written (an answered or decided command, a kept session).
 */
interface Outcome {
  readonly refused: boolean;
  readonly mayWrite: boolean;
}

/** JSON-RPC codes of a command that reached its decision (its refusal may be recorded). */
const DECIDED: ReadonlySet<number> = new Set([
  RPC_CODES.concurrency,
  RPC_CODES.domainRule,
  RPC_CODES.deploymentRunning,
  RPC_CODES.commandTimeout,
  RPC_CODES.deadLettered,
]);
const PRECISE: ReadonlySet<number> = new Set(
  Object.values(RPC_CODES).filter((c) => c !== RPC_CODES.internalError),
);

/** REST `errorCode`s of a command that reached its decision. */
const DECIDED_REST = new Set(['CONCURRENCY_CONFLICT', 'DOMAIN_RULE', 'DEPLOYMENT_IN_PROGRESS']);

/**
 * What differs between two keyspace snapshots, one line per key, besides the command stream
 * getting shorter: the worker trims handled commands every few seconds whatever is sent.
 */
function changesBesidesTrimming(before: string[], after: string[], commands: string): string {
  const sizes = (snapshot: string[]) =>
    new Map(snapshot.map((line) => [line.slice(0, line.lastIndexOf('=')), line] as const));
  const [was, is] = [sizes(before), sizes(after)];
  const lines: string[] = [];
  for (const key of new Set([...was.keys(), ...is.keys()])) {
    const [from, to] = [was.get(key), is.get(key)];
    // presence is the instance's own heartbeat (an entry that lapsed on a stalled machine comes
    // back on the next beat), never a request's write: a CI run once saw it reappear mid-group
    if (from === to || key.includes(':presence:')) continue;
    const shorter = key === commands && from && to && size(to) < size(from);
    if (!shorter) lines.push(`${from ?? `${key} (none)`} -> ${to ?? '(none)'}`);
  }
  return lines.join('\n');
}

const size = (line: string) => Number(line.slice(line.lastIndexOf(':') + 1));

/** Checks the one REST error body of rest-errors.ts, for `status`. */
function expectRestError(status: number, body: Record<string, unknown>, what: string): void {
  expect(body.status, what).to.equal(status);
  for (const field of ['timestamp', 'error', 'message', 'errorCode']) {
    expect(body[field], `${what}: ${field}`).to.be.a('string');
  }
}

/** Parses a JSON answer; fails (with the request) when it is not JSON. */
async function jsonOf(res: Response, what: string): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type'), what).to.match(/^application\/json/);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what}: answered ${res.status} with a body that is not JSON: ${text}`);
  }
}

function describeBody(body: Body): string {
  return typeof body === 'string'
    ? body.slice(0, 300)
    : `bytes ${Buffer.from(body).toString('hex')}`;
}

/** DESIGN.md G8 under generated input, over HTTP against a real instance. */
describeWithRedis(
  'fuzz: generated HTTP input gets a precise error or an answer, and refused input writes nothing',
  function () {
    this.timeout(120_000);
    let instance: QuietInstance;
    let app: AppProcess;
    let redis: Redis;
    let prefix: string;
    before(async () => {
      instance = await startQuietInstance('fuzz', {
        RPC_MAX_BODY_BYTES: '65536', // room for bodies nested 12,000 levels deep
        SSE_MAX_CONNECTIONS_PER_USER: '32',
        PRESENCE_TTL_MS: '6000', // presence is written every 2 s: ash's shows up soon
      });
      ({ app, redis, prefix } = instance);
    });
    after(() => instance.stop());
    let outputBefore = 0;
    beforeEach(() => {
      outputBefore = app.output().length;
    });
    afterEach(() => {
      const logged = app.output().slice(outputBefore).split('\n');
      const errors = logged.filter((l) => /"level":"error"|unhandled|uncaught/i.test(l));
      expect(errors, 'errors the instance logged').to.deep.equal([]);
      expect(app.output(), 'the instance is still running').not.to.match(/exited|Node\.js v/);
    });

    /**
     * The keyspace once everything an accepted command set off is written: no command pending and
     * every projection caught up (as `system.status` reports them).
     */
    const settledSnapshot = async () => {
      for (let i = 0; i < 200; i++) {
        const { result } = (await rpcCall('system.status')) as {
          result: { pendingCommands: number; projections: { lagEvents: number }[] };
        };
        if (result.pendingCommands === 0 && result.projections.every((p) => p.lagEvents === 0)) {
          return keyspaceSnapshot(redis, prefix);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('commands or projections never caught up');
    };

    /**
     * Sends `inputs` generated inputs in groups of `groupSize` (8 at a time), checks each answer with
     * `send`, and compares the keyspace around each group where no input may write. Prints the
     * seed and the counts; fails unless some groups were compared.
     */
    async function fuzz<T>(
      what: string,
      [numRuns, GROUP]: [inputs: number, groupSize: number],
      input: fc.Arbitrary<T>,
      send: (input: T) => Promise<Outcome>,
    ) {
      const settings = fuzzSettings(numRuns / GROUP);
      const counts = { refused: 0, answered: 0, groupsCompared: 0, groups: 0 };
      let before = await settledSnapshot();
      await fc.assert(
        fc.asyncProperty(fc.array(input, { minLength: GROUP, maxLength: GROUP }), async (group) => {
          const outcomes: Outcome[] = [];
          for (let i = 0; i < group.length; i += 8) {
            outcomes.push(...(await Promise.all(group.slice(i, i + 8).map(send))));
          }
          for (const o of outcomes) counts[o.refused ? 'refused' : 'answered'] += 1;
          counts.groups += 1;
          if (!outcomes.some((o) => o.mayWrite)) {
            counts.groupsCompared += 1;
            const after = await keyspaceSnapshot(redis, prefix);
            const changed = changesBesidesTrimming(before, after, `{${prefix}}:cmd`);
            expect(
              changed,
              `${what}: a group that may write nothing wrote:\n${changed}\n`,
            ).to.equal('');
          } else {
            before = await settledSnapshot();
          }
        }),
        settings,
      );
      process.stdout.write(
        `      ${what}: seed ${settings.seed}, ${counts.refused + counts.answered} inputs (${counts.refused} refused, ${counts.answered} answered), keyspace compared for ${counts.groupsCompared} of ${counts.groups} groups of ${GROUP}\n`,
      );
      expect(counts.groupsCompared, `${what}: groups compared`).to.be.greaterThan(0);
      return counts;
    }

    const post = (path: string, type: string, body: Body) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { ...(type ? { 'content-type': type } : {}), 'x-user-id': 'ash' },
        body,
      });

    const rpcCall = async (method: string): Promise<unknown> => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method });
      return (await post('/rpc', 'application/json', body)).json();
    };

    it('POST /rpc: ~8,000 generated bodies each get JSON-RPC responses with precise codes or results', async () => {
      const { result } = (await rpcCall('rpc.discover')) as {
        result: { methods: { name: string; params: { name: string }[] }[] };
      };
      const surface: RpcSurface = {
        methods: result.methods.map((m) => m.name),
        fields: [...new Set(result.methods.flatMap((m) => m.params.map((p) => p.name)))],
      };
      // commands are the methods taking a commandId; only they may write
      const commands = result.methods
        .filter((m) => m.params.some((p) => p.name === 'commandId'))
        .map((m) => `"${m.name}"`);
      expect(commands, 'commands').to.include('"trainer.move"');
      const mentionsCommand = (body: Body) =>
        typeof body === 'string' && commands.some((c) => body.includes(c));
      const counts = await fuzz(
        'POST /rpc',
        [8000, 10],
        rpcBody(surface),
        async ({ type, body }) => {
          const what = `${type} ${describeBody(body)}`;
          const res = await post('/rpc', type, body);
          expect(res.status, what).to.be.oneOf([200, 204, 413, 415]);
          if (res.status === 204) return { refused: false, mayWrite: mentionsCommand(body) };
          const answer = await jsonOf(res, what);
          const responses = Array.isArray(answer) ? answer : [answer];
          let members = 1;
          try {
            const parsed = JSON.parse(typeof body === 'string' ? body : '');
            if (Array.isArray(parsed)) members = Math.max(1, parsed.length);
          } catch {}
          let refused = responses.length >= members;
          for (const r of responses) {
            expect(r.jsonrpc, what).to.equal('2.0');
            expect(r, what).to.have.property('id');
            expect('result' in r !== 'error' in r, `${what}: one of result and error`).to.equal(
              true,
            );
            if ('error' in r) {
              expect(PRECISE.has(r.error.code), `${what}: code ${r.error.code}`).to.equal(true);
              expect(r.error.message, what).to.be.a('string');
              if (DECIDED.has(r.error.code)) refused = false;
            } else refused = false;
          }
          return { refused, mayWrite: !refused && mentionsCommand(body) };
        },
      );
      expect(counts.answered, 'some generated requests were answered').to.be.greaterThan(0);
    });

    it('the seed-003 REST routes: ~5,000 generated bodies each get the REST error body or a success', async () => {
      const routes = ['/api/v1/connect/github', '/api/v1/connect/aws', '/api/v1/deploy'];
      const input = fc.record({ path: fc.constantFrom(...routes), request: restBody });
      await fuzz('REST bodies', [5000, 25], input, async ({ path, request: { type, body } }) => {
        const what = `${path} ${type} ${describeBody(body)}`;
        const res = await post(path, type, body);
        expect(res.status, what).to.be.within(200, 499);
        const answer = await jsonOf(res, what);
        if (res.status === 200) {
          expect(answer.code, what).to.equal(200);
          return { refused: false, mayWrite: true };
        }
        expectRestError(res.status, answer, what);
        const decided = DECIDED_REST.has(String(answer.errorCode));
        return { refused: !decided, mayWrite: decided };
      });
    });

    it('POST /api/v1/sse/subscribe: ~1,500 generated bodies each get the REST error body or the changed subscription', async () => {
      // Fails until the shared body reader replaces express.json on this route (another change):
      // express.json answers malformed JSON, an oversized body or bad UTF-8 with its HTML page.
      // The property checked: always JSON, the REST error body for a 4xx, never 5xx.
      const kept = new AbortController();
      const opened = await fetch(`${app.url}/events?sessionId=fuzz-session`, {
        headers: { 'x-user-id': 'ash' },
        signal: kept.signal,
      });
      expect(opened.status, 'the session to change').to.equal(200);
      kept.abort();
      const path = '/api/v1/sse/subscribe';
      await fuzz(
        'subscribe bodies',
        [1500, 10],
        subscribeBody('fuzz-session'),
        async ({ type, body }) => {
          const what = `${path} ${type} ${describeBody(body)}`;
          const res = await post(path, type, body);
          expect(res.status, what).to.be.within(200, 499);
          const answer = await jsonOf(res, what);
          if (res.status === 200) {
            expect(answer.sessionId, what).to.equal('fuzz-session');
            return { refused: false, mayWrite: true };
          }
          expectRestError(res.status, answer, what);
          return { refused: true, mayWrite: false };
        },
      );
    });

    it('the event-stream routes: ~1,500 generated requests each get a 4xx REST error body or a stream', async () => {
      // one stream held open throughout keeps the presence entry of `ash` in place
      const held = new AbortController();
      await fetch(`${app.url}/events`, { headers: { 'x-user-id': 'ash' }, signal: held.signal });
      for (let present = false; !present; await new Promise((r) => setTimeout(r, 50))) {
        const { result } = (await rpcCall('system.status')) as {
          result: { presence: { connectedUsers: number }[] };
        };
        present = result.presence.some((p) => p.connectedUsers > 0); // ash is the only user
      }
      // an empty segment matches no route (express's own 404): these are the streams' routes
      const segment = fc.oneof(
        shortText.filter((s) => s !== '' && s !== '.' && s !== '..'),
        fc.constantFrom('trainer-ash', 'trainer-misty', 'dep_0123456789'),
      );
      const path = fc.oneof(
        fc.constant('/events'),
        segment.map((s) => `/streams/${encodeURIComponent(s)}/events`),
        segment.map((s) => `/api/v1/deploy/${encodeURIComponent(s)}/events`),
      );
      const headerSafe = lastEventId.filter((t) =>
        /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(t),
      );
      const input = fc.record({ path, query: queryParams, lastEventId: fc.option(headerSafe) });
      try {
        await fuzz('event streams', [1500, 10], input, async ({ path, query, lastEventId }) => {
          const url = `${app.url}${path}?${query}`;
          const what = `${url} Last-Event-ID ${lastEventId}`;
          const abort = new AbortController();
          const headers: Record<string, string> = { 'x-user-id': 'ash' };
          if (lastEventId !== null) headers['last-event-id'] = lastEventId;
          const res = await fetch(url, { headers, signal: abort.signal });
          if (res.status === 200) {
            expect(res.headers.get('content-type'), what).to.match(/^text\/event-stream/);
            abort.abort();
            return { refused: false, mayWrite: query.has('sessionId') }; // a kept session
          }
          expect(res.status, what).to.be.within(400, 499);
          expectRestError(res.status, await jsonOf(res, what), what);
          return { refused: true, mayWrite: false };
        });
      } finally {
        held.abort();
      }
    });
  },
);
