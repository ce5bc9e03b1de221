import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import express from 'express';
import winston from 'winston';
import {
  type CommandBus,
  type CommandEnvelope,
  CommandRuntime,
  catalogueHandlers,
  commandPorts,
  type Worker,
} from '../../src/commands/index.js';
import { MemoryCommandBus } from '../../src/commands/memory-command-bus.js';
import {
  isSealed,
  MemorySecretStore,
  readConnectionSecrets,
  SecretBox,
} from '../../src/connections/index.js';
import { DomainRuleError } from '../../src/errors.js';
import { DEFAULT_STORE_SETTINGS, MemoryEventStore } from '../../src/events/index.js';
import { authenticate } from '../../src/http/auth.js';
import { correlationIds } from '../../src/http/request-log.js';
import { commandRoutes } from '../../src/http/rest-commands.js';
import { restUnauthorizedBody } from '../../src/http/rest-errors.js';
import { connectAws, connectGitHub, type SecretStore } from '../../src/index.js';
import type { ReadModels } from '../../src/projections/read-models.js';
import { commandMethod } from '../../src/rpc/methods/command-method.js';
import { type RpcServices, senderOf } from '../../src/rpc/methods/services.js';
import { createRpcHandler } from '../../src/rpc/router.js';
import { listen, type Running } from '../support/http.js';
import { capturingLogger } from '../support/log-lines.js';

const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const SECRET_ACCESS_KEY = randomBytes(30).toString('base64'); // 40 characters of A–Z a–z 0–9 / +
const SESSION_TOKEN = `FwoGZXIvYXdzE${randomBytes(60).toString('base64')}`;
const ACCESS_KEY_ID = 'AKIA0123456789SAMPLE';
const SECRETS = [TOKEN, SECRET_ACCESS_KEY, SESSION_TOKEN, ACCESS_KEY_ID];

type Json = Record<string, unknown>;

/** The connection commands' handlers (the catalogue's definitions) on `store` and `secrets`. */
const connectionHandlers = (store: MemoryEventStore, secrets: SecretStore) =>
  catalogueHandlers([connectGitHub, connectAws], {
    store,
    ports: commandPorts(store, secrets),
    settings: { trainerSpeed: 5, deployMaxQueued: 100 },
  });

/** A command bus that remembers every command sent through it. */
function recording(bus: CommandBus, sent: CommandEnvelope[]): CommandBus {
  return {
    send: (command, options) => {
      sent.push(command);
      return bus.send(command, options);
    },
    serve: (handlers) => bus.serve(handlers),
    status: (userId, id) => bus.status(userId, id),
    deadLetters: (limit) => bus.deadLetters(limit),
    redrive: (userId, id) => bus.redrive(userId, id),
    close: () => bus.close(),
  };
}

describe('connections over JSON-RPC and REST (in process, memory backend)', () => {
  const box = new SecretBox(randomBytes(32));
  let store: MemoryEventStore;
  let secrets: MemorySecretStore;
  let bus: MemoryCommandBus;
  let worker: Worker;
  let server: Running;
  let logs: string[];
  let responses: string[];
  let sent: CommandEnvelope[];
  let services: RpcServices;

  /** Serves the methods and routes for `services`; REST in JWT mode when `jwt`. */
  const serve = async (svc: RpcServices, jwt = false) => {
    const { logger } = capturingLogger(logs);
    const auth = jwt
      ? { mode: 'jwt' as const, jwtSecret: 'j'.repeat(32), logger }
      : { mode: 'none' as const, logger };
    const app = express();
    app.use(correlationIds);
    app.use(
      commandRoutes({
        commands: [connectGitHub, connectAws],
        sender: senderOf(svc),
        authenticate: authenticate({ ...auth, unauthorizedBody: restUnauthorizedBody }),
        logger,
      }),
    );
    app.use(
      createRpcHandler({
        methods: [connectGitHub, connectAws].map((d) => commandMethod(d, senderOf(svc))),
        logger,
        authenticate: authenticate({ ...auth, allowAnonymous: true }),
      }),
    );
    server = await listen(app);
  };

  beforeEach(async () => {
    logs = [];
    responses = [];
    sent = [];
    store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
    secrets = new MemorySecretStore();
    bus = new MemoryCommandBus(store, {
      timeoutMs: 5000,
      maxAttempts: 3,
      backlogMax: 1000,
      concurrency: 4,
      logger: winston.createLogger({ silent: true }),
    });
    worker = await bus.serve(
      new CommandRuntime(store).processor(connectionHandlers(store, secrets)),
    );
    services = {
      serverId: 'test',
      storeName: 'memory',
      store,
      bus: recording(bus, sent),
      readModels: {} as ReadModels,
      commandTimeoutMs: 5000,
      redisStatus: () => undefined,
      backlog: async () => ({ pending: 0, lag: 0, dead: 0 }),
      secretBox: box,
    };
  });
  afterEach(async () => {
    await server?.close();
    await worker.close();
    await bus.close();
  });

  const post = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'ash', ...headers },
      body,
    });
    const text = await response.text();
    responses.push(text);
    return { status: response.status, body: JSON.parse(text) as Json };
  };
  const rpc = async (method: string, params: unknown) =>
    (await post('/rpc', JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).body;
  const github = { owner: 'your-org', repo: 'your-repo', branch: 'main', token: TOKEN };
  const aws = {
    region: 'ap-northeast-2',
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    sessionToken: SESSION_TOKEN,
  };

  /** Nothing the test saw (events, commands, logs, answers) holds a secret in plain. */
  const expectNoSecretAnywhere = async () => {
    const events = await store.readAll({ limit: 1000 });
    const seen = JSON.stringify([events, sent, logs, responses]);
    for (const secret of SECRETS) expect(seen).not.to.include(secret);
  };

  describe('with the secret box wired', () => {
    beforeEach(() => serve(services));

    it('connect.github answers a githubConnectionId; the event has no token, the store has it sealed', async () => {
      const answer = await rpc('connect.github', github);
      const { githubConnectionId } = answer.result as { githubConnectionId: string };
      expect(githubConnectionId).to.match(/^gh_[0-9a-f]{20}$/);
      const page = await store.readStream(`connection-${githubConnectionId}`);
      expect(page.events.map((e) => [e.type, e.data, e.metadata.userId])).to.deep.equal([
        [
          'GitHubConnected',
          {
            connectionId: githubConnectionId,
            owner: 'your-org',
            repo: 'your-repo',
            branch: 'main',
            userId: 'ash',
          },
          'ash',
        ],
      ]);
      const sealed = await secrets.get(githubConnectionId);
      expect(isSealed(sealed)).to.equal(true);
      expect(await readConnectionSecrets(secrets, box, githubConnectionId)).to.deep.include({
        kind: 'github',
        token: TOKEN,
      });
      await expectNoSecretAnywhere();
    });

    it('connect.aws keeps the whole credential sealed and shows the key id masked', async () => {
      const answer = await rpc('connect.aws', aws);
      const { awsConnectionId } = answer.result as { awsConnectionId: string };
      expect(awsConnectionId).to.match(/^aws_[0-9a-f]{20}$/);
      const page = await store.readStream(`connection-${awsConnectionId}`);
      expect(page.events[0]?.type).to.equal('AwsConnected');
      expect(page.events[0]?.data).to.deep.equal({
        connectionId: awsConnectionId,
        region: 'ap-northeast-2',
        accessKeyIdMasked: '****************MPLE',
        hasSessionToken: true,
        userId: 'ash',
      });
      expect(await readConnectionSecrets(secrets, box, awsConnectionId)).to.deep.include({
        kind: 'aws',
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: SECRET_ACCESS_KEY,
        sessionToken: SESSION_TOKEN,
      });
      await expectNoSecretAnywhere();
    });

    it("treats seed 003's empty sessionToken as none", async () => {
      const answer = await rpc('connect.aws', { ...aws, sessionToken: '' });
      const { awsConnectionId } = answer.result as { awsConnectionId: string };
      const [event] = (await store.readStream(`connection-${awsConnectionId}`)).events;
      expect(event?.data).to.have.property('hasSessionToken', false);
      const opened = await readConnectionSecrets(secrets, box, awsConnectionId);
      expect(opened).to.deep.include({ kind: 'aws', secretAccessKey: SECRET_ACCESS_KEY });
      expect(opened).not.to.have.property('sessionToken');
    });

    it('sends commands that carry the secrets sealed, bound to their connection', async () => {
      await rpc('connect.github', github);
      await post('/api/v1/connect/aws', JSON.stringify(aws));
      expect(sent.map((c) => c.type)).to.deep.equal(['ConnectGitHub', 'ConnectAws']);
      for (const command of sent) {
        const data = command.data as { connectionId: string; sealed: string };
        expect(isSealed(data.sealed)).to.equal(true);
        expect(box.open(data.sealed, data.connectionId)).to.include('"kind"');
        expect(() => box.open(data.sealed, 'gh_0000000000')).to.throw(/does not authenticate/);
      }
      await expectNoSecretAnywhere();
    });

    it("POST /api/v1/connect/github and /aws answer with seed 003's envelope", async () => {
      const gh = await post('/api/v1/connect/github', JSON.stringify(github));
      expect(gh.status).to.equal(200);
      expect(gh.body).to.have.keys('code', 'message', 'data');
      expect(gh.body).to.deep.include({ code: 200, message: 'GitHub connection succeeded.' });
      expect((gh.body.data as Json).githubConnectionId).to.match(/^gh_[0-9a-f]{20}$/);
      const a = await post('/api/v1/connect/aws', JSON.stringify({ ...aws, sessionToken: '' }));
      expect(a.status).to.equal(200);
      expect(a.body).to.deep.include({ code: 200, message: 'AWS connection succeeded.' });
      expect((a.body.data as Json).awsConnectionId).to.match(/^aws_[0-9a-f]{20}$/);
      expect(await store.readAll({ limit: 10 })).to.have.nested.property('events.length', 2);
      await expectNoSecretAnywhere();
    });

    it("answers invalid bodies with seed 003's error body, naming fields, never values", async () => {
      const bad = await post(
        '/api/v1/connect/github',
        JSON.stringify({ ...github, owner: '-bad', branch: '' }),
      );
      expect(bad.status).to.equal(400);
      expect(bad.body).to.include({
        status: 400,
        error: 'Bad Request',
        errorCode: 'VALIDATION_FAILED',
      });
      expect(Date.parse(bad.body.timestamp as string)).to.be.closeTo(Date.now(), 60_000);
      expect(bad.body.message).to.match(
        /^invalid request body: owner: must be a GitHub user.*; branch: is required$/,
      );
      expect(bad.body.issues).to.deep.equal([
        { path: 'owner', message: (bad.body.issues as Json[])[0]!.message },
        { path: 'branch', message: 'is required' },
      ]);
      const badSecret = await post(
        '/api/v1/connect/aws',
        JSON.stringify({ ...aws, region: 'x', secretAccessKey: `${SECRET_ACCESS_KEY}"` }),
      );
      expect(badSecret.status).to.equal(400);
      expect((badSecret.body.issues as Json[]).map((i) => i.path)).to.deep.equal([
        'region',
        'secretAccessKey',
      ]);
      const rpcBad = await rpc('connect.github', { ...github, token: `${TOKEN}!` });
      expect(rpcBad.error).to.deep.include({ code: -32602 });
      expect(sent).to.deep.equal([]);
      expect(await store.readAll({ limit: 10 })).to.have.nested.property('events.length', 0);
      await expectNoSecretAnywhere();
    });

    it('answers broken JSON, a non-object and a wrong content type without quoting the body', async () => {
      const broken = await post('/api/v1/connect/github', `{"token":"${TOKEN}",`);
      expect(broken.status).to.equal(400);
      expect(broken.body).to.include({ errorCode: 'INVALID_JSON', error: 'Bad Request' });
      const array = await post('/api/v1/connect/github', JSON.stringify([github]));
      expect(array.status).to.equal(400);
      expect(array.body).to.include({ message: 'the request body must be a JSON object' });
      const text = await post('/api/v1/connect/aws', JSON.stringify(aws), {
        'content-type': 'text/plain',
      });
      expect(text.status).to.equal(415);
      expect(text.body).to.include({ status: 415, error: 'Unsupported Media Type' });
      const rpcBroken = await post('/rpc', `{"jsonrpc":"2.0","id":1,"params":{"token":"${TOKEN}"`);
      expect(rpcBroken.body.error).to.deep.include({ code: -32700 });
      await expectNoSecretAnywhere();
    });
  });

  it('answers 401 with the REST error body when credentials are missing', async () => {
    await serve(services, true);
    const refused = await post('/api/v1/connect/github', JSON.stringify(github));
    expect(refused.status).to.equal(401);
    expect(refused.body).to.include({
      status: 401,
      error: 'Unauthorized',
      errorCode: 'UNAUTHENTICATED',
    });
    expect(refused.body).to.have.keys('timestamp', 'status', 'error', 'message', 'errorCode');
    expect(sent).to.deep.equal([]);
  });

  it('answers an internal error (never a secret) when no secret box is wired', async () => {
    const { secretBox: _, ...unwired } = services;
    await serve(unwired);
    const answer = await rpc('connect.github', github);
    expect(answer.error).to.deep.include({ code: -32603, message: 'Internal error' });
    const rest = await post('/api/v1/connect/github', JSON.stringify(github));
    expect(rest.status).to.equal(500);
    expect(rest.body).to.include({ errorCode: 'UNEXPECTED_ERROR' });
    expect(logs.join('')).to.include('RpcServices.secretBox is not wired');
    expect(sent).to.deep.equal([]);
    await expectNoSecretAnywhere();
  });
});

describe('connection command handlers', () => {
  const box = new SecretBox(randomBytes(32));
  const envelope = (id: string, data: Json): CommandEnvelope => ({
    id: crypto.randomUUID(),
    type: 'ConnectGitHub',
    data: { connectionId: id, owner: 'o', repo: 'r', branch: 'main', ...data } as never,
    metadata: {
      commandId: id,
      userId: 'ash',
      correlationId: 'k',
      timestamp: '2026-01-01T00:00:00.000Z',
    },
  });

  it('stores the sealed secret, then appends; a redelivery changes nothing', async () => {
    const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
    const secrets = new MemorySecretStore();
    const handler = connectionHandlers(store, secrets).ConnectGitHub!;
    const runtime = new CommandRuntime(store);
    const handle = (c: CommandEnvelope) => runtime.handle(handler, c);
    const sealed = box.seal('{"kind":"github","token":"t"}', 'gh_aaaaaaaaaa');
    const command = envelope('gh_aaaaaaaaaa', { sealed });
    await handle(command);
    await handle(command);
    expect(await secrets.get('gh_aaaaaaaaaa')).to.equal(sealed);
    const page = await store.readStream('connection-gh_aaaaaaaaaa');
    expect(page.events.map((e) => e.type)).to.deep.equal(['GitHubConnected']);
  });

  it('refuses other secrets for an existing connection, leaving the first', async () => {
    const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
    const secrets = new MemorySecretStore();
    const handle = connectionHandlers(store, secrets).ConnectGitHub!;
    const first = box.seal('a', 'gh_aaaaaaaaaa');
    await new CommandRuntime(store).handle(handle, envelope('gh_aaaaaaaaaa', { sealed: first }));
    let thrown: unknown;
    try {
      await handle(envelope('gh_aaaaaaaaaa', { sealed: box.seal('b', 'gh_aaaaaaaaaa') }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(DomainRuleError);
    expect((thrown as DomainRuleError).rule).to.equal('connection-exists');
    expect(await secrets.get('gh_aaaaaaaaaa')).to.equal(first);
  });

  it('stores nothing for a malformed command, and never a plain secret', async () => {
    const store = new MemoryEventStore({ ...DEFAULT_STORE_SETTINGS, serverId: 'test' });
    const secrets = new MemorySecretStore();
    const handle = connectionHandlers(store, secrets).ConnectGitHub!;
    const cases: Json[] = [
      { sealed: 'ghp_plainPlainPlainPlain0000' },
      { sealed: box.seal('a', 'gh_aaaaaaaaaa'), branch: 'a b' },
      { sealed: box.seal('a', 'gh_aaaaaaaaaa'), owner: undefined },
    ];
    for (const data of cases) {
      let thrown: unknown;
      try {
        await handle(envelope('gh_aaaaaaaaaa', data));
      } catch (error) {
        thrown = error;
      }
      expect((thrown as Error).name, JSON.stringify(Object.keys(data))).to.equal('ValidationError');
      expect((thrown as Error).message).not.to.include('plainPlain');
    }
    expect(await secrets.get('gh_aaaaaaaaaa')).to.equal(undefined);
    expect(store.stats().events).to.equal(0);
  });
});
