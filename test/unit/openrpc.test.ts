import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { z } from 'zod';
import { silentLogger } from '../../src/log.js';
import {
  type Caller,
  createRpcHandler,
  defineMethod,
  discoverMethod,
  type OpenRpcDocument,
  openRpcDocument,
  type RpcContext,
} from '../../src/rpc/index.js';

const Point = z.object({ x: z.number(), y: z.number() }).meta({ id: 'Point' });

const move = defineMethod({
  name: 'trainer.move',
  summary: 'Starts or stops a trainer',
  description: 'Answers after the command is handled.',
  params: z.object({
    action: z.enum(['start', 'stop']).describe('what the trainer does'),
    directionX: z.number().optional(),
    limit: z.number().int().max(1000).default(100),
    to: Point,
  }),
  result: z.object({ version: z.number().int(), position: Point }),
  errors: [-32010, -32009],
  handler: async () => ({ version: 1, position: { x: 0, y: 0 } }),
});

const readAll = defineMethod({
  name: 'events.readAll',
  summary: 'Reads the global log',
  params: z.object({}),
  auth: 'admin',
  handler: async () => [],
});

const info = { title: 'streamcast', version: '0.1.0' };

const user: Caller = { userId: 'ash', groups: [], roles: [], isAdmin: false };
const context: RpcContext = { user, correlationId: 'c-1', logger: silentLogger };

describe('OpenRPC document', () => {
  const doc = openRpcDocument([move, readAll], info);
  const [moveDoc, readAllDoc] = doc.methods;

  it('is an OpenRPC 1.3.2 document listing the methods in order', () => {
    expect(doc.openrpc).to.equal('1.3.2');
    expect(doc.info).to.deep.equal(info);
    expect(doc.methods.map((m) => m.name)).to.deep.equal(['trainer.move', 'events.readAll']);
    expect(moveDoc).to.include({
      summary: 'Starts or stops a trainer',
      description: 'Answers after the command is handled.',
      paramStructure: 'by-name',
      'x-auth': 'user',
    });
  });

  it('describes each named param from the zod schema, with required flags from its input shape', () => {
    const params = moveDoc!.params;
    expect(params.map((p) => [p.name, p.required])).to.deep.equal([
      ['action', true],
      ['directionX', false],
      ['limit', false],
      ['to', true],
    ]);
    expect(params[0]).to.deep.equal({
      name: 'action',
      description: 'what the trainer does',
      required: true,
      schema: { type: 'string', enum: ['start', 'stop'], description: 'what the trainer does' },
    });
    expect(params[2]!.schema).to.include({ type: 'integer', maximum: 1000, default: 100 });
  });

  it('describes the result, and an empty schema when a method declares none', () => {
    expect(moveDoc!.result.name).to.equal('result');
    expect(moveDoc!.result.schema).to.include({ type: 'object' });
    expect(moveDoc!.result.schema.required).to.deep.equal(['version', 'position']);
    expect(readAllDoc!.result).to.deep.equal({ name: 'result', schema: {} });
    expect(readAllDoc!.params).to.deep.equal([]);
  });

  it('lists the declared errors plus those the auth level implies', () => {
    expect(moveDoc!.errors!.map((e) => e.code)).to.deep.equal([-32001, -32009, -32010]);
    expect(moveDoc!.errors![1]).to.deep.equal({
      code: -32009,
      message: 'Concurrency conflict: the stream is not at expectedVersion',
    });
    expect(readAllDoc!.errors!.map((e) => e.code)).to.deep.equal([-32001, -32003]);
    expect(readAllDoc!['x-auth']).to.equal('admin');
  });

  it('shares schemas with an id through components.schemas, with refs that resolve there', () => {
    expect(doc.components!.schemas.Point).to.deep.include({ type: 'object', required: ['x', 'y'] });
    expect(moveDoc!.params[3]!.schema).to.deep.equal({ $ref: '#/components/schemas/Point' });
    const text = JSON.stringify(doc);
    expect(text).to.not.match(/#\/(definitions|\$defs)\//);
    expect(text).to.not.include('$schema');
  });

  it('leaves components out when no schema is shared', () => {
    expect(openRpcDocument([readAll], info)).to.not.have.property('components');
  });
});

describe('rpc.discover', () => {
  const discover = discoverMethod([move, readAll], info);

  it('is public and takes no params', () => {
    expect(discover.name).to.equal('rpc.discover');
    expect(discover.auth).to.equal('public');
    expect(discover.params.safeParse({}).success).to.equal(true);
  });

  it('answers the document of every method, itself included', async () => {
    const doc = (await discover.handler({}, context)) as OpenRpcDocument;
    expect(doc.methods.map((m) => m.name)).to.deep.equal([
      'trainer.move',
      'events.readAll',
      'rpc.discover',
    ]);
    expect(doc).to.deep.equal(openRpcDocument([move, readAll, discover], info));
  });

  it('is served by the router without credentials', async () => {
    const app = express();
    app.use(createRpcHandler({ methods: [move, readAll, discover], logger: silentLogger }));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/rpc`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.discover' }),
      });
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { result: OpenRpcDocument };
      expect(body.result.openrpc).to.equal('1.3.2');
      expect(body.result.methods).to.have.length(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
