import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { type AppProcess, startApp } from '../../scripts/lib/app-process.js';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '../support/otlp-receiver.js';
import { readyStatus } from '../support/readiness.js';
import {
  clearPrefix,
  describeWithRedis,
  testClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/redis.js';
import { SseClient } from '../support/sse.js';

const PROTOCOLS = ['http/json', 'http/protobuf'] as const;
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Sends `trainer.move` (start) for `user` to `app`, with a `traceparent` when given. */
async function move(app: AppProcess, user: string, traceparent?: string) {
  const res = await fetch(`${app.url}/rpc`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-user-id': user,
      ...(traceparent ? { traceparent } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'trainer.move',
      params: { action: 'start', directionX: 1, directionY: 0, commandId: randomUUID() },
    }),
  });
  const body = (await res.json()) as { result?: { version: number }; error?: unknown };
  expect(body.error, JSON.stringify(body.error)).to.equal(undefined);
  return body.result!;
}

/** The recorded events of `trainer-<user>` as `events.read` returns them. */
async function eventsOf(app: AppProcess, user: string) {
  const res = await fetch(`${app.url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': user },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'events.read',
      params: { streamId: `trainer-${user}` },
    }),
  });
  const body = (await res.json()) as {
    result: { events: { metadata: { traceparent?: string } }[] };
  };
  return body.result.events;
}

const instanceOf = (s: ReceivedSpan) => s.resource['service.instance.id'];
const inTrace = (spans: readonly ReceivedSpan[], traceId: string) =>
  spans.filter((s) => s.traceId === traceId);
const linksTo = (s: ReceivedSpan, traceId: string) => s.links.some((l) => l.traceId === traceId);

/**
 * Issue 16: one trace from the HTTP call on an API-only instance (A, COMMAND_WORKER=off) through
 * the command handled on B, its commit, the projection batch and SSE delivery on both; instances
 * configured only through OTEL_* (plus what any instance needs), spans received by an OTLP/HTTP
 * receiver in this process over each protocol.
 */
describeWithRedis('tracing across instances (OTLP/HTTP receiver in the test)', function () {
  this.timeout(300_000);
  const secret = randomBytes(32).toString('base64');
  const apps: AppProcess[] = [];
  const clients: SseClient[] = [];
  let prefix: string;
  let receiver: OtlpReceiver;

  const start = async (name: string, env: Record<string, string> = {}) => {
    const app = await startApp({
      REDIS_URL: testRedisUrl()!,
      SECRET_KEY: secret,
      KEY_PREFIX: prefix,
      SERVER_ID: `${name}-${prefix}`,
      COMMAND_CLAIM_IDLE_MS: '500',
      LEASE_TTL_MS: '1000',
      ...env,
    });
    apps.push(app);
    expect(await readyStatus(app.url, 90_000), `${name} ready`).to.equal(200);
    return app;
  };
  const traced = (protocol: string, instance: string) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_RESOURCE_ATTRIBUTES: `service.instance.id=${instance}`,
  });
  const watch = async (app: AppProcess, user: string) => {
    const c = new SseClient(app.url, { userId: user });
    clients.push(c);
    await c.until((x) => x.of('session.opened').length > 0, 10_000, 'session.opened');
    return c;
  };

  beforeEach(async () => {
    prefix = uniquePrefix('trace');
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(apps.splice(0).map((a) => a.stop()));
    await receiver.close();
    const redis = testClient();
    await clearPrefix(redis, prefix);
    redis.disconnect();
  });

  for (const protocol of PROTOCOLS) {
    it(`one trace from the request on A to the commit on B and SSE delivery on both, over ${protocol}`, async () => {
      const a = await start('a', { ...traced(protocol, 'a'), COMMAND_WORKER: 'off' });
      const b = await start('b', traced(protocol, 'b'));
      const user = `ash-${hex(3)}`;
      const [onA, onB] = await Promise.all([watch(a, user), watch(b, user)]);
      const traceId = hex(16);
      const callerSpan = hex(8);
      await move(a, user, `00-${traceId}-${callerSpan}-01`);
      for (const c of [onA, onB]) {
        await c.until((x) => x.of('position.update').length > 0, 10_000, 'position.update');
      }

      const one = (name: string, instance: string) => (spans: readonly ReceivedSpan[]) =>
        inTrace(spans, traceId).find((s) => s.name === name && instanceOf(s) === instance);
      const http = await receiver.waitFor('POST /rpc on A', one('POST /rpc', 'a'));
      const send = await receiver.waitFor('send commands on A', one('send commands', 'a'));
      const handle = await receiver.waitFor('process commands on B', one('process commands', 'b'));
      const settle = await receiver.waitFor('settle commands on B', one('settle commands', 'b'));
      expect([http.kind, http.parentSpanId]).to.deep.equal([SERVER, callerSpan]);
      expect([send.kind, send.parentSpanId]).to.deep.equal([PRODUCER, http.spanId]);
      expect([handle.kind, handle.parentSpanId]).to.deep.equal([CONSUMER, send.spanId]);
      expect(settle.parentSpanId).to.equal(handle.spanId);
      expect(settle.links.map((l) => l.spanId)).to.include(handle.spanId);
      expect(send.events.map((e) => e.name)).to.include('reply');
      expect(handle.attributes).to.include({
        'messaging.system': 'streamcast',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'commands',
        'messaging.consumer.group.name': 'handlers',
      });
      expect(handle.attributes['messaging.message.id']).to.equal(
        send.attributes['messaging.message.id'],
      );
      expect(settle.attributes['messaging.batch.message_count']).to.be.at.least(1);
      expect(http.attributes['streamcast.correlation_id']).to.be.a('string').and.not.equal('');

      // the event names the handling span; SSE delivery on both instances links to it
      const [event] = await eventsOf(a, user);
      expect(event?.metadata.traceparent).to.equal(`00-${traceId}-${handle.spanId}-01`);
      for (const instance of ['a', 'b']) {
        const fanOut = await receiver.waitFor(`send notifications on ${instance}`, (spans) =>
          spans.find(
            (s) =>
              s.name === 'send notifications' &&
              instanceOf(s) === instance &&
              s.links.some((l) => l.spanId === handle.spanId),
          ),
        );
        expect(fanOut.kind).to.equal(PRODUCER);
        expect(fanOut.attributes['streamcast.sse.sessions']).to.equal(1);
      }
      const projected = await receiver.waitFor(
        'a trainer-positions batch linked to the trace',
        (spans) =>
          spans.find(
            (s) =>
              s.name === 'process events' &&
              s.attributes['messaging.consumer.group.name'] === 'trainer-positions' &&
              linksTo(s, traceId),
          ),
      );
      expect(projected.kind).to.equal(CONSUMER);
      expect(projected.attributes['messaging.batch.message_count']).to.be.at.least(1);

      const ours = inTrace(receiver.spans, traceId);
      expect(new Set(ours.map((s) => s.protocol))).to.deep.equal(new Set([protocol]));
      expect(receiver.requests[protocol]).to.be.greaterThan(0);
      process.stdout.write(
        `      ${protocol}: ${ours.length} spans in the trace (${[...new Set(ours.map((s) => `${instanceOf(s)}:${s.name}`))].join(', ')}), ${receiver.requests[protocol]} export requests\n`,
      );
    });
  }

  it('a command reclaimed from a dead instance shows the reclaim in its trace', async () => {
    const protocol = 'http/protobuf';
    const a = await start('a', { ...traced(protocol, 'a'), COMMAND_WORKER: 'off' });
    const dying = await start('c', {
      ...traced(protocol, 'c'),
      STREAMCAST_FAULT: 'exit-before-commit:1',
    });
    const user = `misty-${hex(3)}`;
    const traceId = hex(16);
    const moved = move(a, user, `00-${traceId}-${hex(8)}-01`);
    await dying.exited;
    expect(dying.output()).to.match(/exit-before-commit/);
    await start('d', traced(protocol, 'd'));
    expect((await moved).version).to.equal(1);
    const handle = await receiver.waitFor('process commands on D', (spans) =>
      inTrace(spans, traceId).find((s) => s.name === 'process commands' && instanceOf(s) === 'd'),
    );
    const reclaim = handle.events.find((e) => e.name === 'reclaimed');
    expect(reclaim, 'a reclaimed event').to.not.equal(undefined);
    expect(handle.attributes['streamcast.command.deliveries']).to.equal(2);
    const send = await receiver.waitFor('send commands on A', (spans) =>
      inTrace(spans, traceId).find((s) => s.name === 'send commands'),
    );
    expect(handle.parentSpanId).to.equal(send.spanId);
    process.stdout.write(
      `      reclaimed on d after c exited: deliveries ${handle.attributes['streamcast.command.deliveries']}, event ${reclaim?.name}\n`,
    );
  });

  it('with tracing off the request traceparent still reaches the event metadata, and no span is sent', async () => {
    const app = await start('plain');
    const user = `brock-${hex(3)}`;
    const traceparent = `00-${hex(16)}-${hex(8)}-01`;
    await move(app, user, traceparent);
    const [event] = await eventsOf(app, user);
    expect(event?.metadata.traceparent).to.equal(traceparent);
    expect(receiver.requests).to.deep.equal({ 'http/json': 0, 'http/protobuf': 0 });
  });
});
