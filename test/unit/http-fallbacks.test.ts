import { expect } from 'chai';
import express from 'express';
import { createApp } from '../../src/http/app.js';
import { listen, type Running } from '../support/http.js';
import { capturingLogger } from '../support/log-lines.js';

const SECRET = 'password=hunter2';

describe('HTTP fallbacks: unknown paths and errors no route answered', () => {
  let server: Running;
  const lines: string[] = [];
  before(async () => {
    const { logger } = capturingLogger(lines);
    const rest = express.Router();
    rest.post('/api/v1/broken', () => {
      throw new Error(`cannot parse ${SECRET}`);
    });
    rest.post('/api/v1/refused', () => {
      throw Object.assign(new SyntaxError(`Unexpected token in ${SECRET}`), {
        status: 400,
        type: 'entity.parse.failed',
      });
    });
    server = await listen(
      createApp({ health: express.Router(), rpc: express.Router(), rest: [rest], logger }),
    );
  });
  after(() => server.close());

  it('answers an error with the REST error body as JSON, logging only its status and type', async () => {
    const broken = await fetch(`${server.base}/api/v1/broken`, { method: 'POST' });
    const refused = await fetch(`${server.base}/api/v1/refused`, { method: 'POST' });
    expect(broken.headers.get('content-type')).to.match(/^application\/json/);
    const [b, r] = [await broken.json(), await refused.json()] as {
      status: number;
      errorCode: string;
    }[];
    expect([b!.status, b!.errorCode, r!.status, r!.errorCode]).to.deep.equal([
      500,
      'UNEXPECTED_ERROR',
      400,
      'BAD_REQUEST',
    ]);
    expect(JSON.stringify([b, r])).to.not.include('hunter2');
    const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged.map(({ status, type }) => [status, type])).to.deep.equal([
      [500, 'Error'],
      [400, 'entity.parse.failed'],
    ]);
    expect(lines.join('')).to.not.include('hunter2');
  });

  it('answers an unknown path with a JSON 404', async () => {
    const answer = await fetch(`${server.base}/nowhere`);
    expect(answer.status).to.equal(404);
    expect(((await answer.json()) as { errorCode: string }).errorCode).to.equal('NOT_FOUND');
  });
});
