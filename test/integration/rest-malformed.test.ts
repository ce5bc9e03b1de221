/**
 * Bad bodies on the REST routes (and `POST /api/v1/sse/subscribe`) get the one REST error body as
 * JSON — never express's HTML page — and nothing of the body reaches the instance's log output.
 */
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import { readyStatus } from '../support/readiness.js';

/** Stands for a secret a client put in a body that does not parse. */
const MARKER = 'ghp_MalformedBodyMarker0123456789';

interface Answer {
  readonly status: number;
  readonly contentType: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
  readonly json: any;
}

async function post(url: string, body: string, contentType = 'application/json'): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-user-id': 'ash' },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    json: JSON.parse(text),
  };
}

describe('REST routes: malformed, mistyped and oversized bodies', function () {
  this.timeout(60_000);
  let app: AppProcess;
  before(async () => {
    app = await startApp({ LOG_LEVEL: 'debug' }); // the in-memory store; every line logged
    expect(await readyStatus(app.url, 20_000)).to.equal(200);
  });
  after(() => app?.stop());

  const routes = ['/api/v1/sse/subscribe', '/api/v1/connect/github', '/api/v1/deploy'];

  it('answers malformed JSON with 400 INVALID_JSON as JSON, logging nothing of the body', async () => {
    for (const route of routes) {
      const answer = await post(`${app.url}${route}`, `{"sessionId":"x","token":"${MARKER}",`);
      expect([answer.status, answer.json.errorCode], route).to.deep.equal([400, 'INVALID_JSON']);
      expect(answer.contentType, route).to.match(/^application\/json/);
    }
    expect(app.output()).to.not.include(MARKER);
  });

  it('answers a wrong content type with 415 and a too-large body with 413, as JSON', async () => {
    for (const route of routes) {
      const typed = await post(`${app.url}${route}`, `token=${MARKER}`, 'text/plain');
      expect([typed.status, typed.json.errorCode], route).to.deep.equal([
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ]);
      const large = await post(
        `${app.url}${route}`,
        JSON.stringify({ token: MARKER, pad: 'x'.repeat(2_000_000) }),
      );
      expect([large.status, large.json.errorCode], route).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);
    }
    expect(app.output()).to.not.include(MARKER);
  });

  it('answers an unknown path with a JSON 404', async () => {
    const answer = await post(`${app.url}/api/v1/nowhere`, '{}');
    expect([answer.status, answer.json.errorCode]).to.deep.equal([404, 'NOT_FOUND']);
  });
});
