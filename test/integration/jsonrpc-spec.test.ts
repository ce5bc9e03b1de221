import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';

/**
 * The examples section of the JSON-RPC 2.0 specification, adapted to our methods, against a real
 * instance. `subtract`/`sum`/`get_data` become `events.read`/`system.status`; the responses must
 * have exactly the shapes the specification shows.
 */
describe('JSON-RPC 2.0 specification examples against /rpc', function () {
  this.timeout(30_000);
  let app: AppProcess;
  before(async () => {
    app = await startApp({ LOG_LEVEL: 'error' });
    await app.waitForLine(/listening/).catch(async () => {
      // LOG_LEVEL=error hides the listening line: poll health instead
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`${app.url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          return;
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
  after(() => app.stop());

  const post = async (body: string) => {
    const res = await fetch(`${app.url}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'ash' },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const readParams = { streamId: 'trainer-ash', limit: 2 };
  const emptyPage = { events: [], nextVersion: 1, isEnd: true };

  it('rpc call with named parameters', async () => {
    const r = await post(
      JSON.stringify({ jsonrpc: '2.0', method: 'events.read', params: readParams, id: 3 }),
    );
    expect(r).to.deep.equal({ status: 200, body: { jsonrpc: '2.0', result: emptyPage, id: 3 } });
  });

  it('rpc call with positional parameters is refused: we take named params only', async () => {
    const r = await post(
      '{"jsonrpc": "2.0", "method": "events.read", "params": ["trainer-ash", 1], "id": 1}',
    );
    expect(r.status).to.equal(200);
    expect(r.body).to.have.keys('jsonrpc', 'error', 'id');
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: 1 });
    expect(r.body.error.code).to.equal(-32602);
  });

  it('a notification gets no response', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "system.status", "params": {}}');
    expect(r).to.deep.equal({ status: 204, body: undefined });
  });

  it('rpc call of a non-existent method', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}');
    expect(r.body).to.have.keys('jsonrpc', 'error', 'id');
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: '1' });
    expect(r.body.error).to.include({ code: -32601 });
  });

  it('rpc call with invalid JSON', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]');
    expect(r.status).to.equal(200);
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body.error.code).to.equal(-32700);
  });

  it('rpc call with an invalid Request object', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": 1, "params": "bar"}');
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body.error.code).to.equal(-32600);
  });

  it('rpc call batch with invalid JSON', async () => {
    const r = await post(
      '[{"jsonrpc": "2.0", "method": "system.status", "params": {}, "id": "1"},{"jsonrpc": "2.0", "method"]',
    );
    expect(r.body).to.not.be.an('array');
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body.error.code).to.equal(-32700);
  });

  it('rpc call with an empty Array', async () => {
    const r = await post('[]');
    expect(r.body).to.not.be.an('array');
    expect(r.body).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body.error.code).to.equal(-32600);
  });

  it('rpc call with an invalid Batch (but not empty)', async () => {
    const r = await post('[1]');
    expect(r.body).to.be.an('array').with.length(1);
    expect(r.body[0]).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body[0].error.code).to.equal(-32600);
  });

  it('rpc call with an invalid Batch', async () => {
    const r = await post('[1,2,3]');
    expect(r.body).to.be.an('array').with.length(3);
    for (const item of r.body) expect(item.error.code).to.equal(-32600);
  });

  it('rpc call Batch: answers in order, skipping notifications', async () => {
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'events.read', params: readParams, id: '1' },
        { jsonrpc: '2.0', method: 'system.status', params: {} },
        { jsonrpc: '2.0', method: 'events.read', params: { streamId: 'trainer-ash' }, id: '2' },
        { foo: 'boo' },
        { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
        { jsonrpc: '2.0', method: 'system.status', id: '9' },
      ]),
    );
    expect(r.body).to.be.an('array').with.length(5);
    expect(r.body[0]).to.deep.equal({ jsonrpc: '2.0', result: emptyPage, id: '1' });
    expect(r.body[1]).to.deep.equal({ jsonrpc: '2.0', result: emptyPage, id: '2' });
    expect(r.body[2]).to.deep.include({ jsonrpc: '2.0', id: null });
    expect(r.body[2].error.code).to.equal(-32600);
    expect(r.body[3]).to.deep.include({ jsonrpc: '2.0', id: '5' });
    expect(r.body[3].error.code).to.equal(-32601);
    expect(r.body[4]).to.have.keys('jsonrpc', 'result', 'id');
    expect(r.body[4].result).to.include({ store: 'memory' });
  });

  it('rpc call Batch (all notifications) gets nothing back', async () => {
    const r = await post(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'system.status', params: {} },
        { jsonrpc: '2.0', method: 'events.read', params: readParams },
      ]),
    );
    expect(r).to.deep.equal({ status: 204, body: undefined });
  });

  it('rpc.discover validates against the OpenRPC meta-schema and lists every method with its params', async () => {
    const r = await post('{"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}');
    const document = r.body.result;
    const require = createRequire(import.meta.url);
    // both schemas name a custom meta URI; they are draft-07 underneath
    const { $schema: _a, ...metaSchema } = require('@open-rpc/meta-schema').default;
    const { $schema: _b, ...jsonSchemaSchema } = require('@json-schema-tools/meta-schema').default;
    const ajv = new Ajv({ strict: false, validateFormats: false });
    ajv.addSchema(jsonSchemaSchema); // referenced both with and without the trailing slash
    const { $id: _c, ...unnamed } = jsonSchemaSchema;
    ajv.addSchema(unnamed, 'https://meta.json-schema.tools');
    const valid = ajv.validate(metaSchema, document);
    expect(ajv.errors ?? [], 'OpenRPC validation errors').to.deep.equal([]);
    expect(valid).to.equal(true);
    expect(
      ajv.validate(metaSchema, { ...document, methods: [{ name: 'x' }] }),
      'the validator rejects a broken document',
    ).to.equal(false);
    const names = document.methods.map((m: { name: string }) => m.name);
    expect(names).to.deep.equal([
      'trainer.move',
      'trainer.get',
      'trainer.list',
      'message.broadcast',
      'connect.github',
      'connect.aws',
      'deploy.start',
      'deploy.get',
      'deploy.result',
      'events.read',
      'events.readAll',
      'command.status',
      'command.redrive',
      'command.deadLetters',
      'system.status',
      'system.instances',
      'rpc.discover',
    ]);
    const move = document.methods.find((m: { name: string }) => m.name === 'trainer.move');
    expect(move.params.map((p: { name: string }) => p.name)).to.deep.equal([
      'action',
      'directionX',
      'directionY',
      'trainerId',
      'commandId',
      'expectedVersion',
    ]);
    const read = document.methods.find((m: { name: string }) => m.name === 'events.read');
    expect(read.params.map((p: { name: string }) => p.name)).to.deep.equal([
      'streamId',
      'fromVersion',
      'limit',
      'direction',
    ]);
    expect(read.params[0]).to.include({ required: true });
  });
});
