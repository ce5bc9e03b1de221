import { expect } from 'chai';
import type { Redis } from 'ioredis';
import type { AppProcess } from '../../scripts/lib/app-process.js';
import {
  describeWithRedis,
  keyspaceSnapshot,
  type QuietInstance,
  startQuietInstance,
} from '../support/redis.js';

/** DESIGN.md G8 over HTTP: malformed requests of every kind get precise errors and leave no trace. */
describeWithRedis('malformed JSON-RPC input writes nothing to Redis', function () {
  this.timeout(30_000);
  let instance: QuietInstance;
  let app: AppProcess;
  let redis: Redis;
  let prefix: string;
  before(async () => {
    instance = await startQuietInstance('g8', { RPC_MAX_BODY_BYTES: '4096' });
    ({ app, redis, prefix } = instance);
  });
  after(() => instance.stop());

  const snapshot = () => keyspaceSnapshot(redis, prefix);
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'ash', ...headers },
      body,
    }).then(async (r) => ({
      status: r.status,
      body: (await r.json()) as { error?: { code: number; data?: unknown } },
    }));
  const call = (method: string, params: unknown) =>
    post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));

  const cases: [string, () => ReturnType<typeof post>, number, number][] = [
    ['invalid JSON', () => post('{"jsonrpc":"2.0",'), 200, -32700],
    [
      'a body over RPC_MAX_BODY_BYTES',
      () =>
        call('message.broadcast', {
          targetType: 'user',
          targetIds: ['misty'],
          method: 'message.x',
          params: { s: 'x'.repeat(5000) },
        }),
      413,
      -32600,
    ],
    ['a wrong content type', () => post('{}', { 'content-type': 'text/plain' }), 415, -32600],
    ['a missing action', () => call('trainer.move', { directionX: 1, directionY: 0 }), 200, -32602],
    [
      'a direction of (0, 0)',
      () => call('trainer.move', { action: 'start', directionX: 0, directionY: 0 }),
      200,
      -32602,
    ],
    [
      'a direction that is not a number',
      () => call('trainer.move', { action: 'start', directionX: 'north', directionY: 1 }),
      200,
      -32602,
    ],
    ['a start without a direction', () => call('trainer.move', { action: 'start' }), 200, -32602],
    [
      'a bad trainer id',
      () => call('trainer.move', { action: 'stop', trainerId: 'no spaces allowed' }),
      200,
      -32602,
    ],
    [
      'a commandId that is not a uuid',
      () => call('trainer.move', { action: 'stop', commandId: '42' }),
      200,
      -32602,
    ],
    [
      'a negative expectedVersion',
      () => call('trainer.move', { action: 'stop', expectedVersion: -1 }),
      200,
      -32602,
    ],
    [
      "moving another user's trainer",
      () =>
        call('trainer.move', { action: 'start', directionX: 1, directionY: 0, trainerId: 'misty' }),
      200,
      -32003,
    ],
    [
      'a server method in a message',
      () =>
        call('message.broadcast', {
          targetType: 'user',
          targetIds: ['misty'],
          method: 'position.update',
          params: {},
        }),
      200,
      -32602,
    ],
    [
      'a broadcast by a non-admin',
      () => call('message.broadcast', { targetType: 'broadcast', method: 'message.x', params: {} }),
      200,
      -32003,
    ],
    ['positional params', () => call('trainer.move', ['start', 1, 0]), 200, -32602],
    ['an unknown method', () => call('trainer.fly', {}), 200, -32601],
    ['events.readAll by a non-admin', () => call('events.readAll', {}), 200, -32003],
  ];

  it('answers each with its error code and leaves the keyspace as it was', async () => {
    const before = await snapshot();
    for (const [what, send, status, code] of cases) {
      const r = await send();
      expect(r.status, what).to.equal(status);
      expect(r.body.error?.code, what).to.equal(code);
    }
    expect(await snapshot()).to.deep.equal(before);
  });
});
