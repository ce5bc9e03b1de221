import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { command, FailoverRpc } from '../../console/src/failover-rpc.js';
import { RpcCallError } from '../../src/client/index.js';

/** A JSON-RPC endpoint that answers `who` with its name, anything else with -32601. */
async function endpoint(name: string): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      calls.push(method);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify(
          method === 'who'
            ? { jsonrpc: '2.0', id, result: name }
            : { jsonrpc: '2.0', id, error: { code: -32601, message: `no ${method}` } },
        ),
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, calls };
}

describe('console: calls fail over along the instances', () => {
  it('moves to the next instance when one cannot be reached, and stays there', async () => {
    const gone = await endpoint('gone');
    gone.server.close();
    await once(gone.server, 'close');
    const up = await endpoint('up');
    try {
      const rpc = new FailoverRpc([gone.url, up.url], {});
      expect(await rpc.call('who')).to.equal('up');
      expect(await rpc.call('who')).to.equal('up');
      expect(up.calls).to.deep.equal(['who', 'who']);
    } finally {
      up.server.close();
    }
  });

  it('does not resend a call an instance answered with a JSON-RPC error', async () => {
    const a = await endpoint('a');
    const b = await endpoint('b');
    try {
      const rpc = new FailoverRpc([a.url, b.url], {});
      let refused: unknown;
      await rpc.call('nope').catch((e: unknown) => {
        refused = e;
      });
      expect(refused).to.be.instanceOf(RpcCallError);
      expect((refused as RpcCallError).code).to.equal(-32601);
      expect([a.calls, b.calls]).to.deep.equal([['nope'], []]);
    } finally {
      a.server.close();
      b.server.close();
    }
  });

  it('gives each command a fresh commandId', () => {
    const one = command({ action: 'stop' });
    const two = command({ action: 'stop' });
    expect(one.commandId).to.match(/^[0-9a-f-]{36}$/);
    expect(one.commandId).not.to.equal(two.commandId);
    expect(one.action).to.equal('stop');
  });
});
