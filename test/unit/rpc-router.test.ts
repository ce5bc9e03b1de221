import { expect } from 'chai';
import express from 'express';
import { z } from 'zod';
import {
  CommandTimeoutError,
  ConcurrencyError,
  DeadLetteredError,
  DomainRuleError,
  ForbiddenError,
  NotFoundError,
  OverloadedError,
  ReadModelLagError,
  UnauthenticatedError,
  ValidationError,
} from '../../src/errors.js';
import { answerErrorOf } from '../../src/events/outcome.js';
import { authenticate } from '../../src/http/auth.js';
import { silentLogger } from '../../src/log.js';
import {
  createRpcHandler,
  defineMethod,
  type RpcHandlerOptions,
  type RpcMethod,
} from '../../src/rpc/index.js';
import { listen, type Running } from '../support/http.js';
import { capturingLogger } from '../support/log-lines.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SECRET_DETAIL = 'password=hunter2 at db.internal:5432';

/** The typed errors `fail` can throw, with the code and data each must map to. */
const FAILURES = {
  validation: {
    error: () => new ValidationError('too big', [{ path: 'data', message: 'too big' }]),
    code: -32602,
    data: [{ path: 'data', message: 'too big' }],
  },
  unauthenticated: {
    error: () => new UnauthenticatedError('who are you'),
    code: -32001,
    data: undefined,
  },
  forbidden: { error: () => new ForbiddenError('not yours'), code: -32003, data: undefined },
  notFound: {
    error: () => new NotFoundError('trainer', 'ash'),
    code: -32004,
    data: { kind: 'trainer', id: 'ash' },
  },
  concurrency: {
    error: () => new ConcurrencyError('trainer-ash', 3, 5),
    code: -32009,
    data: { expectedVersion: 3, actualVersion: 5 },
  },
  domainRule: {
    error: () => new DomainRuleError('not-moving', 'the trainer is not moving'),
    code: -32010,
    data: { rule: 'not-moving' },
  },
  overloaded: {
    error: () => new OverloadedError('busy', 1000),
    code: -32029,
    data: { retryAfterMs: 1000 },
  },
  commandTimeout: {
    error: () => new CommandTimeoutError('c-1'),
    code: -32030,
    data: { commandId: 'c-1' },
  },
  deadLettered: {
    error: () => new DeadLetteredError('c-2', 3, `Error: ${SECRET_DETAIL}`),
    code: -32031,
    // the last error is internal text: not for callers other than admins
    message: 'command dead-lettered after 3 attempts; an admin can see why (npm run dead -- list)',
    data: { commandId: 'c-2', attempts: 3 },
  },
  readModelLag: {
    error: () => new ReadModelLagError('trainer-positions', '10-0', '7-0'),
    code: -32032,
    data: { projection: 'trainer-positions', minPosition: '10-0', position: '7-0' },
  },
  recordedAnswer: {
    error: () => answerErrorOf({ error: 'rule', message: 'not moving', rule: 'not-moving' }),
    code: -32010,
    data: { rule: 'not-moving' },
  },
} as const;

type FailureKind = keyof typeof FAILURES;
const failureKinds = Object.keys(FAILURES) as FailureKind[];

function exampleMethods(state: { notified: string[]; running: number; peak: number }): RpcMethod[] {
  return [
    defineMethod({
      name: 'echo',
      summary: 'Answers its text',
      params: z.object({
        text: z.string().max(64),
        point: z.object({ x: z.number() }).optional(),
      }),
      handler: async ({ text }) => ({ text }),
    }),
    defineMethod({
      name: 'ping',
      summary: 'Answers pong; takes no params',
      params: z.object({ note: z.string().optional() }),
      auth: 'public',
      handler: async () => 'pong',
    }),
    defineMethod({
      name: 'note',
      summary: 'Remembers a text (for notifications)',
      params: z.object({ text: z.string() }),
      handler: async ({ text }) => {
        state.notified.push(text);
        return null;
      },
    }),
    defineMethod({
      name: 'slow',
      summary: 'Answers its value after ms, counting how many run at once',
      params: z.object({ ms: z.number().int().min(0), value: z.string() }),
      handler: async ({ ms, value }) => {
        state.running += 1;
        state.peak = Math.max(state.peak, state.running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        state.running -= 1;
        return value;
      },
    }),
    defineMethod({
      name: 'fail',
      summary: 'Throws the typed error named by kind, or an internal one',
      params: z.object({ kind: z.enum([...failureKinds, 'internal']) }),
      handler: async ({ kind }): Promise<never> => {
        if (kind === 'internal') throw new Error(SECRET_DETAIL);
        throw FAILURES[kind].error();
      },
    }),
    defineMethod({
      name: 'whoami',
      summary: 'Answers the caller and correlation id',
      params: z.object({}),
      handler: async (_params, ctx) => ({ user: ctx.user, correlationId: ctx.correlationId }),
    }),
    defineMethod({
      name: 'admin.only',
      summary: 'Admins only',
      params: z.object({}),
      auth: 'admin',
      handler: async () => {
        state.notified.push('admin.only ran');
        return 'granted';
      },
    }),
    defineMethod({
      name: 'hang',
      summary: 'Waits until its client goes away',
      params: z.object({}),
      handler: (_params, ctx) =>
        new Promise<null>((resolve) => {
          ctx.signal?.addEventListener('abort', () => {
            state.notified.push('aborted');
            resolve(null);
          });
        }),
    }),
    defineMethod({
      name: 'budgeted',
      summary:
        'Takes bytes from the budget for each item until one does not fit; answers how many did',
      params: z.object({ items: z.number().int(), bytes: z.number().int() }),
      handler: async ({ items, bytes }, ctx) => {
        let kept = 0;
        while (kept < items && ctx.budget?.take(bytes)) kept += 1;
        return kept;
      },
    }),
    defineMethod({
      name: 'json',
      summary: 'Takes any JSON, as message.broadcast takes its params',
      params: z.object({ value: z.json() }),
      handler: async () => 'ok',
    }),
    defineMethod({
      name: 'bigint',
      summary: 'Answers something JSON cannot hold',
      params: z.object({}),
      handler: async () => 1n as unknown,
    }),
  ];
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
  readonly json: any;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

const call = (method: string, params?: unknown, id: unknown = 1) => ({
  jsonrpc: '2.0',
  id,
  method,
  ...(params === undefined ? {} : { params }),
});

describe('JSON-RPC router', () => {
  let server: Running;
  let state: { notified: string[]; running: number; peak: number };
  let logLines: string[];

  const start = async (options: Partial<RpcHandlerOptions> = {}) => {
    state = { notified: [], running: 0, peak: 0 };
    logLines = [];
    const { logger } = capturingLogger(logLines);
    const app = express();
    app.use(
      createRpcHandler({
        methods: exampleMethods(state),
        maxBatch: 5,
        maxBodyBytes: 4096,
        logger,
        authenticate: authenticate({ mode: 'none', logger: silentLogger }),
        ...options,
      }),
    );
    server = await listen(app);
  };

  afterEach(async () => server?.close());

  describe('single calls', () => {
    beforeEach(() => start());

    it('answers {jsonrpc, id, result} with HTTP 200 and nothing else', async () => {
      const answer = await post(`${server.base}/rpc`, call('echo', { text: 'hi' }, 7));
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/^application\/json/);
      expect(answer.json).to.deep.equal({ jsonrpc: '2.0', id: 7, result: { text: 'hi' } });
    });

    it('echoes string ids and answers id null calls (they are not notifications)', async () => {
      expect((await post(`${server.base}/rpc`, call('ping', {}, 'abc'))).json).to.deep.equal({
        jsonrpc: '2.0',
        id: 'abc',
        result: 'pong',
      });
      expect((await post(`${server.base}/rpc`, call('ping', {}, null))).json).to.deep.equal({
        jsonrpc: '2.0',
        id: null,
        result: 'pong',
      });
    });

    it('accepts omitted params when the schema allows it', async () => {
      const answer = await post(`${server.base}/rpc`, call('ping'));
      expect(answer.json.result).to.equal('pong');
    });

    it('answers -32602 with every issue when params are omitted but required', async () => {
      const answer = await post(`${server.base}/rpc`, call('echo'));
      expect(answer.status).to.equal(200);
      expect(answer.json.error.code).to.equal(-32602);
      expect(answer.json.error.data).to.deep.equal([
        { path: 'text', message: 'Invalid input: expected string, received undefined' },
      ]);
      expect(answer.json).to.not.have.property('result');
    });

    it('joins nested issue paths with dots', async () => {
      const answer = await post(
        `${server.base}/rpc`,
        call('echo', { text: 1, point: { x: 'no' } }),
      );
      expect(answer.json.error.code).to.equal(-32602);
      expect(answer.json.error.data.map((i: { path: string }) => i.path)).to.deep.equal([
        'text',
        'point.x',
      ]);
    });

    it('refuses params nested deeper than 64 levels with -32602 naming where, before a recursive schema overflows the stack', async () => {
      await server.close();
      await start({ maxBodyBytes: 1 << 20 });
      const nested = (levels: number) =>
        `{"jsonrpc":"2.0","id":1,"method":"json","params":{"value":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}}`;
      const deep = await post(`${server.base}/rpc`, nested(10_000));
      expect(deep.json.error?.code, deep.text.slice(0, 300)).to.equal(-32602);
      const path = ['value', ...Array(63).fill('a')].join('.');
      expect(deep.json.error.data).to.deep.equal([
        { path, message: 'nests deeper than 64 levels of arrays and objects' },
      ]);
      const deepest = await post(`${server.base}/rpc`, nested(63));
      expect(deepest.json).to.deep.equal({ jsonrpc: '2.0', id: 1, result: 'ok' });
    });

    it('refuses with -32602 a value zod itself cannot read (a length holding {"toString":0}), not -32603', async () => {
      const text = { length: [{ toString: 0 }] }; // found by the fuzz suite (seed 1503293653)
      const answer = await post(`${server.base}/rpc`, call('echo', { text }, 3));
      expect(answer.json).to.have.nested.property('error.code', -32602);
      expect(answer.json)
        .to.have.nested.property('error.message')
        .that.match(/could not be read/);
    });

    it('refuses by-position params with -32602 saying only named params are taken', async () => {
      const answer = await post(`${server.base}/rpc`, call('echo', ['hi']));
      expect(answer.json.error.code).to.equal(-32602);
      expect(answer.json.error.message).to.match(/by-position/);
      expect(answer.json.error.message).to.match(/named params/);
    });

    it('answers -32601 for an unknown method', async () => {
      const answer = await post(`${server.base}/rpc`, call('nope.nothing', {}, 3));
      expect(answer.status).to.equal(200);
      expect(answer.json.id).to.equal(3);
      expect(answer.json.error.code).to.equal(-32601);
      expect(answer.json.error.data).to.deep.equal({ method: 'nope.nothing' });
    });

    it('answers -32601 for names of Object.prototype', async () => {
      const answer = await post(`${server.base}/rpc`, call('constructor', {}));
      expect(answer.json.error.code).to.equal(-32601);
    });

    it('answers -32700 with id null for invalid JSON, as JSON with HTTP 200', async () => {
      const answer = await post(
        `${server.base}/rpc`,
        '{"jsonrpc": "2.0", "method": "echo", "params": "bar", "baz]',
      );
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/^application\/json/);
      expect(answer.json).to.deep.include({ jsonrpc: '2.0', id: null });
      expect(answer.json.error.code).to.equal(-32700);
    });

    it('answers -32700 for a body that is not UTF-8', async () => {
      const answer = await post(
        `${server.base}/rpc`,
        new Blob([new Uint8Array([0x22, 0xff, 0xfe, 0x22])]),
      );
      expect(answer.json.error.code).to.equal(-32700);
    });

    it('answers -32700 for an empty body', async () => {
      const answer = await post(`${server.base}/rpc`, '');
      expect(answer.json.error.code).to.equal(-32700);
    });

    it('answers -32600 for invalid request objects, with the id when it can be read', async () => {
      const cases: [unknown, unknown][] = [
        [{ jsonrpc: '1.0', method: 'echo', id: 5 }, 5],
        [{ jsonrpc: '2.0', method: 1, params: 'bar' }, null],
        [{ jsonrpc: '2.0', method: 'echo', params: 'bar', id: 'x' }, 'x'],
        [{ jsonrpc: '2.0', method: 'echo', params: null, id: 'y' }, 'y'],
        [{ jsonrpc: '2.0', method: 'echo', id: { no: 1 } }, null],
        [{ method: 'echo', id: 9 }, 9],
        [JSON.stringify('just a string'), null],
        [42, null],
      ];
      for (const [body, id] of cases) {
        const answer = await post(`${server.base}/rpc`, body);
        expect(answer.status, JSON.stringify(body)).to.equal(200);
        expect(answer.json, JSON.stringify(body)).to.deep.include({ jsonrpc: '2.0', id });
        expect(answer.json.error.code, JSON.stringify(body)).to.equal(-32600);
        expect(answer.json).to.not.have.property('result');
      }
    });

    it('maps every typed error to its code and data, keeping its message', async () => {
      for (const kind of failureKinds) {
        const expected = FAILURES[kind];
        const answer = await post(`${server.base}/rpc`, call('fail', { kind }, kind));
        expect(answer.json.id).to.equal(kind);
        expect(answer.json.error.code, kind).to.equal(expected.code);
        expect(answer.json.error.message, kind).to.equal(
          'message' in expected ? expected.message : expected.error().message,
        );
        if (expected.data === undefined)
          expect(answer.json.error, kind).to.not.have.property('data');
        else expect(answer.json.error.data, kind).to.deep.equal(expected.data);
        expect(answer.status, kind).to.equal(expected.code === -32001 ? 401 : 200);
      }
    });

    it("shows a dead command's last error to admins only, and logs it", async () => {
      const kind = 'deadLettered';
      const asUser = await post(`${server.base}/rpc`, call('fail', { kind }));
      expect(asUser.text).to.not.include(SECRET_DETAIL);
      const asAdmin = await post(`${server.base}/rpc`, call('fail', { kind }), {
        'X-User-Roles': 'admin',
      });
      expect(asAdmin.json.error.data.lastError).to.equal(`Error: ${SECRET_DETAIL}`);
      expect(asAdmin.json.error.message).to.include(SECRET_DETAIL);
      expect(logLines.filter((line) => line.includes(SECRET_DETAIL))).to.have.length(2);
    });

    it('answers -32603 "Internal error" with the correlation id, logging the cause instead of leaking it', async () => {
      const answer = await post(`${server.base}/rpc`, call('fail', { kind: 'internal' }), {
        'X-Correlation-Id': 'corr-42',
      });
      expect(answer.status).to.equal(200);
      expect(answer.json.error).to.deep.equal({
        code: -32603,
        message: 'Internal error',
        data: { correlationId: 'corr-42' },
      });
      expect(answer.text).to.not.include('hunter2');
      expect(answer.text).to.not.include('.ts:');
      const logged = logLines.map((line) => JSON.parse(line)).find((l) => l.level === 'error');
      expect(logged).to.include({ correlationId: 'corr-42', method: 'fail' });
      expect(logged.error).to.include(SECRET_DETAIL);
    });

    it('turns a result JSON cannot hold into -32603 for that call only', async () => {
      const answer = await post(`${server.base}/rpc`, [call('bigint', {}, 1), call('ping', {}, 2)]);
      expect(answer.json[0].error.code).to.equal(-32603);
      expect(answer.json[1]).to.deep.equal({ jsonrpc: '2.0', id: 2, result: 'pong' });
    });

    it('answers 405 with a JSON-RPC error to other HTTP methods', async () => {
      const response = await fetch(`${server.base}/rpc`);
      expect(response.status).to.equal(405);
      expect(response.headers.get('allow')).to.equal('POST');
      expect((await response.json()).error.code).to.equal(-32600);
    });
  });

  describe('batches', () => {
    beforeEach(() => start());

    it('runs members concurrently and answers in request order', async () => {
      const answer = await post(`${server.base}/rpc`, [
        call('slow', { ms: 150, value: 'a' }, 1),
        call('slow', { ms: 50, value: 'b' }, 2),
        call('slow', { ms: 0, value: 'c' }, 3),
        call('echo', { text: 'd' }, 4),
      ]);
      expect(answer.status).to.equal(200);
      expect(answer.json.map((r: { id: number }) => r.id)).to.deep.equal([1, 2, 3, 4]);
      expect(answer.json.map((r: { result: unknown }) => r.result)).to.deep.equal([
        'a',
        'b',
        'c',
        { text: 'd' },
      ]);
      expect(state.peak).to.equal(3);
    });

    it('runs at most 8 members at once', async () => {
      await server.close();
      await start({ maxBatch: 30 });
      const batch = Array.from({ length: 30 }, (_, i) =>
        call('slow', { ms: 20, value: `${i}` }, i),
      );
      const answer = await post(`${server.base}/rpc`, batch);
      expect(answer.json.map((r: { result: unknown }) => r.result)).to.deep.equal(
        batch.map((_, i) => `${i}`),
      );
      expect(state.peak).to.equal(8);
    });

    it('shares one response budget among its members; an item over the whole budget is -32010', async () => {
      await server.close();
      await start({ maxResponseBytes: 20_000 });
      const answer = await post(`${server.base}/rpc`, [
        call('echo', { text: 'x'.repeat(2000) }, 0),
        ...[1, 2, 3, 4].map((id) => call('budgeted', { items: 10, bytes: 1000 }, id)),
      ]);
      const kept = answer.json.slice(1).map((r: { result: number }) => r.result);
      expect(kept.reduce((a: number, b: number) => a + b, 0)).to.be.within(15, 20);
      expect(kept).to.include(0);
      const whole = await post(`${server.base}/rpc`, call('budgeted', { items: 1, bytes: 20_001 }));
      expect(whole.json.error.code).to.equal(-32010);
      expect(whole.json.error.data).to.deep.equal({ rule: 'response-too-large' });
    });

    it('answers [1,2,3] with three -32600 errors with id null', async () => {
      const answer = await post(`${server.base}/rpc`, [1, 2, 3]);
      expect(answer.json).to.have.length(3);
      for (const r of answer.json)
        expect(r).to.deep.include({ jsonrpc: '2.0', id: null, error: r.error });
      expect(answer.json.map((r: { error: { code: number } }) => r.error.code)).to.deep.equal([
        -32600, -32600, -32600,
      ]);
    });

    it('answers an empty batch with one -32600 error (not an array)', async () => {
      const answer = await post(`${server.base}/rpc`, []);
      expect(answer.status).to.equal(200);
      expect(answer.json).to.not.be.an('array');
      expect(answer.json).to.deep.include({ jsonrpc: '2.0', id: null });
      expect(answer.json.error.code).to.equal(-32600);
    });

    it('answers a batch over maxBatch with one -32600 error and runs none of it', async () => {
      const batch = Array.from({ length: 6 }, (_, i) => call('note', { text: `n${i}` }, i));
      const answer = await post(`${server.base}/rpc`, batch);
      expect(answer.json.error.code).to.equal(-32600);
      expect(answer.json.error.message).to.match(/at most 5/);
      expect(state.notified).to.deep.equal([]);
    });

    it('mixes results, errors and invalid members', async () => {
      const answer = await post(`${server.base}/rpc`, [
        call('echo', { text: 'x' }, 'a'),
        { foo: 'boo' },
        call('nope', {}, 'c'),
        call('fail', { kind: 'notFound' }, 'd'),
      ]);
      expect(answer.json.map((r: { id: unknown }) => r.id)).to.deep.equal(['a', null, 'c', 'd']);
      expect(answer.json[0].result).to.deep.equal({ text: 'x' });
      expect(
        answer.json.slice(1).map((r: { error: { code: number } }) => r.error.code),
      ).to.deep.equal([-32600, -32601, -32004]);
    });
  });

  describe('notifications', () => {
    beforeEach(() => start());

    it('handles a notification and answers 204 with no body', async () => {
      const answer = await post(`${server.base}/rpc`, {
        jsonrpc: '2.0',
        method: 'note',
        params: { text: 'n1' },
      });
      expect(answer.status).to.equal(204);
      expect(answer.text).to.equal('');
      expect(state.notified).to.deep.equal(['n1']);
    });

    it('answers 204 to an all-notification batch, even when some fail', async () => {
      const answer = await post(`${server.base}/rpc`, [
        { jsonrpc: '2.0', method: 'note', params: { text: 'a' } },
        { jsonrpc: '2.0', method: 'nope' },
        { jsonrpc: '2.0', method: 'fail', params: { kind: 'internal' } },
        { jsonrpc: '2.0', method: 'note', params: { text: 1 } },
        { jsonrpc: '2.0', method: 'note', params: { text: 'b' } },
      ]);
      expect(answer.status).to.equal(204);
      expect(answer.text).to.equal('');
      expect(state.notified.sort()).to.deep.equal(['a', 'b']);
    });

    it('leaves notifications out of a mixed batch', async () => {
      const answer = await post(`${server.base}/rpc`, [
        { jsonrpc: '2.0', method: 'note', params: { text: 'quiet' } },
        call('echo', { text: 'loud' }, 2),
      ]);
      expect(answer.json).to.deep.equal([{ jsonrpc: '2.0', id: 2, result: { text: 'loud' } }]);
      expect(state.notified).to.deep.equal(['quiet']);
    });

    it('does not run an admin method notified by a non-admin', async () => {
      const answer = await post(`${server.base}/rpc`, { jsonrpc: '2.0', method: 'admin.only' });
      expect(answer.status).to.equal(204);
      expect(state.notified).to.deep.equal([]);
    });
  });

  describe('HTTP limits', () => {
    beforeEach(() => start());

    it('answers 413 with -32600 to a body over maxBodyBytes', async () => {
      const answer = await post(`${server.base}/rpc`, call('echo', { text: 'x'.repeat(5000) }));
      expect(answer.status).to.equal(413);
      expect(answer.json).to.deep.include({ jsonrpc: '2.0', id: null });
      expect(answer.json.error.code).to.equal(-32600);
      expect(answer.json.error.message).to.match(/4096 bytes/);
    });

    it('answers 413 to a chunked body (no Content-Length) that grows past the limit', async () => {
      const chunk = new TextEncoder().encode(`${' '.repeat(1000)}`);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 6) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const response = await fetch(`${server.base}/rpc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(response.status).to.equal(413);
      expect((await response.json()).error.code).to.equal(-32600);
    });

    it('still serves the connection after a 413', async () => {
      await post(`${server.base}/rpc`, call('echo', { text: 'x'.repeat(5000) }));
      expect((await post(`${server.base}/rpc`, call('ping'))).json.result).to.equal('pong');
    });

    it('answers 415 with -32600 when the Content-Type is not application/json', async () => {
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
      ]) {
        const answer = await post(`${server.base}/rpc`, call('ping'), { 'Content-Type': type });
        expect(answer.status, type).to.equal(415);
        expect(answer.json.error.code, type).to.equal(-32600);
        expect(answer.json.id, type).to.equal(null);
      }
    });

    it('answers 415 when the Content-Type is missing', async () => {
      const response = await fetch(`${server.base}/rpc`, {
        method: 'POST',
        body: new Uint8Array(Buffer.from('{}')),
      });
      expect(response.status).to.equal(415);
    });

    it('accepts application/json with charset=utf-8', async () => {
      const answer = await post(`${server.base}/rpc`, call('ping'), {
        'Content-Type': 'Application/JSON; charset="UTF-8"',
      });
      expect(answer.json.result).to.equal('pong');
    });
  });

  describe('callers and correlation ids', () => {
    beforeEach(() => start());

    it('answers -32003 to non-admins calling an admin method, and runs it for admins', async () => {
      const refused = await post(`${server.base}/rpc`, call('admin.only'), { 'X-User-Id': 'ash' });
      expect(refused.status).to.equal(200);
      expect(refused.json.error.code).to.equal(-32003);
      const granted = await post(`${server.base}/rpc`, call('admin.only'), {
        'X-User-Id': 'oak',
        'X-User-Roles': 'admin',
      });
      expect(granted.json.result).to.equal('granted');
    });

    it('hands the caller and the correlation id to the handler', async () => {
      const answer = await post(`${server.base}/rpc`, call('whoami'), {
        'X-User-Id': 'ash',
        'X-User-Groups': 'kanto,league',
        'X-Correlation-Id': 'req-1',
      });
      expect(answer.headers.get('x-correlation-id')).to.equal('req-1');
      expect(answer.json.result).to.deep.equal({
        user: { userId: 'ash', groups: ['kanto', 'league'], roles: [], isAdmin: false },
        correlationId: 'req-1',
      });
    });

    it('makes a uuid correlation id when none or an insane one is given', async () => {
      const cases: Record<string, string>[] = [{}, { 'X-Correlation-Id': 'has spaces and <html>' }];
      for (const headers of cases) {
        const answer = await post(`${server.base}/rpc`, call('whoami'), headers);
        const id = answer.headers.get('x-correlation-id');
        expect(id).to.match(UUID);
        expect(answer.json.result.correlationId).to.equal(id);
      }
    });

    it('aborts the signal of a call whose client went away', async () => {
      const client = new AbortController();
      const pending = fetch(`${server.base}/rpc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(call('hang')),
        signal: client.signal,
      }).catch((error: Error) => error.name);
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.abort();
      expect(await pending).to.equal('AbortError');
      for (let i = 0; i < 50 && state.notified.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(state.notified).to.deep.equal(['aborted']);
    });

    it('sets the correlation id header on protocol errors too', async () => {
      const answer = await post(`${server.base}/rpc`, '{', { 'X-Correlation-Id': 'broken-1' });
      expect(answer.headers.get('x-correlation-id')).to.equal('broken-1');
    });
  });

  describe('without credentials (jwt mode, anonymous allowed)', () => {
    beforeEach(() =>
      start({
        authenticate: authenticate({
          mode: 'jwt',
          jwtSecret: 'x'.repeat(32),
          allowAnonymous: true,
          logger: silentLogger,
        }),
      }),
    );

    it('answers public methods', async () => {
      expect((await post(`${server.base}/rpc`, call('ping'))).json.result).to.equal('pong');
    });

    it('answers 401 with -32001 to a user method', async () => {
      const answer = await post(`${server.base}/rpc`, call('echo', { text: 'hi' }, 4));
      expect(answer.status).to.equal(401);
      expect(answer.json).to.deep.include({ jsonrpc: '2.0', id: 4 });
      expect(answer.json.error.code).to.equal(-32001);
    });

    it('answers 200 to a batch where only some members need credentials', async () => {
      const answer = await post(`${server.base}/rpc`, [
        call('ping', {}, 1),
        call('echo', { text: 'x' }, 2),
      ]);
      expect(answer.status).to.equal(200);
      expect(answer.json[0].result).to.equal('pong');
      expect(answer.json[1].error.code).to.equal(-32001);
    });

    it('answers 401 before reading the body when a token is bad', async () => {
      const answer = await post(`${server.base}/rpc`, call('ping'), {
        Authorization: 'Bearer not.a.jwt',
      });
      expect(answer.status).to.equal(401);
      expect(answer.json).to.deep.include({ jsonrpc: '2.0', id: null });
      expect(answer.json.error.code).to.equal(-32001);
    });
  });

  it('refuses two methods with the same name', () => {
    const one = exampleMethods({ notified: [], running: 0, peak: 0 })[0]!;
    expect(() => createRpcHandler({ methods: [one, one], logger: silentLogger })).to.throw(
      /defined twice/,
    );
  });
});
