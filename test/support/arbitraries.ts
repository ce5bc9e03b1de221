/**
 * The fast-check arbitraries of the fuzz tests (test/unit/fuzz-parsers.test.ts,
 * test/integration/fuzz-http.test.ts), kept here so that every surface is fed the same kinds of
 * hostile input: wrong types, prototype-ish keys (`__proto__`, `constructor`), deep nesting,
 * malformed JSON text, invalid UTF-8, huge numbers.
 */
import fc from 'fast-check';

/** Run settings printed by each fuzz test, so a failure can be reproduced with the same seed. */
export function fuzzSettings(numRuns: number): { seed: number; numRuns: number } {
  const given = Number(process.env.FUZZ_SEED);
  const seed = Number.isSafeInteger(given) ? given : Date.now() ^ (Math.random() * 0x7fffffff);
  return { seed, numRuns };
}

/** Keys that meet `Object.prototype` when code indexes a plain object with them. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
] as const;

const prototypeKey = fc.constantFrom(...PROTOTYPE_KEYS);

/** A short string, sometimes with control characters, separators or non-ASCII text. */
export const shortText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', ' ', ',', '.', '*', '>', '%', '\n', '\u0000', '..', 'a.>.b', 'ash'),
);

/** An object key: prototype-ish, a field name the surfaces know, or anything. */
export const objectKey = (known: readonly string[] = []) =>
  known.length
    ? fc.oneof(prototypeKey, fc.constantFrom(...known), shortText)
    : fc.oneof(prototypeKey, shortText);

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e300, 0.5),
  shortText,
  fc.string({ minLength: 200, maxLength: 400 }),
);

/** Any JSON value (nested arrays and objects, prototype-ish and known keys). */
export function jsonValue(known: readonly string[] = []): fc.Arbitrary<unknown> {
  const key = objectKey(known);
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 6 },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ),
  })).value;
}

/** An object of known fields, each holding any JSON value (the right type or not). */
export function objectOf(known: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(objectKey(known), jsonValue(known), {
    maxKeys: 6,
    noNullPrototype: true,
  });
}

/** Text that is not JSON: a valid document cut short, a random string, or stray syntax. */
export function malformedJson(of: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(of, fc.nat()).map(([value, cut]) => {
      const text = JSON.stringify(value) ?? '';
      return text.slice(0, text.length > 1 ? cut % (text.length - 1) : 0) || '{';
    }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('{"jsonrpc":"2.0",', '[', '{]', "{'a':1}", 'NaN', 'undefined', '{"a":1,}'),
  );
}

/** A body: text, or bytes that are not valid UTF-8. */
export type Body = string | Uint8Array<ArrayBuffer>;

/** Bytes that are not UTF-8 inside otherwise well-formed JSON. */
export const invalidUtf8: fc.Arbitrary<Uint8Array<ArrayBuffer>> = fc
  .uint8Array({ minLength: 1, maxLength: 8 })
  .map((bytes) => new Uint8Array([0x7b, 0x22, 0xc3, 0x28, ...bytes, 0x22, 0x3a, 0x31, 0x7d]));

/** A JSON text with a number literal no double holds exactly (ids, versions). */
export const hugeNumberText: fc.Arbitrary<string> = fc
  .tuple(fc.bigInt({ min: 10n ** 20n, max: 10n ** 400n }), fc.boolean())
  .map(([n, exponent]) => (exponent ? `${n}e400` : `${n}`));

/** JSON text nesting arrays or objects up to 12,000 levels deep around `inner` (recursive code's bane). */
export const deeplyNested: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 12_000 }), fc.boolean())
  .map(([levels, arrays]) =>
    arrays
      ? `${'['.repeat(levels)}1${']'.repeat(levels)}`
      : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`,
  );

/** Content types a client may send, right and wrong. */
export const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'APPLICATION/JSON',
    '',
  ),
);

// --- JSON-RPC ---------------------------------------------------------------------------------

/** What an instance serves, as its `rpc.discover` document lists it. */
export interface RpcSurface {
  /** Every method name (unknown ones are generated beside them). */
  readonly methods: readonly string[];
  /** Every params field name of those methods, generated with values of any type. */
  readonly fields: readonly string[];
}

const rpcId = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 10 }),
  fc.constant(null),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e300, true),
  fc.array(fc.integer(), { maxLength: 2 }),
  objectOf([]),
);

/** One request object: mostly right in shape, with members missing, mistyped or extra. */
export function rpcRequest(surface: RpcSurface): fc.Arbitrary<Record<string, unknown>> {
  const method = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...surface.methods) },
    fc.constantFrom(...PROTOTYPE_KEYS, 'rpc.', 'trainer.', 'TRAINER.MOVE', ' system.status'),
    shortText,
    jsonValue(),
  );
  const params = fc.oneof(
    { weight: 4, arbitrary: objectOf(surface.fields) },
    fc.array(jsonValue(surface.fields), { maxLength: 4 }),
    jsonValue(surface.fields),
  );
  return fc.record(
    {
      jsonrpc: fc.oneof({ weight: 8, arbitrary: fc.constant('2.0') }, jsonValue()),
      id: rpcId,
      method,
      params,
      extra: jsonValue(),
    },
    { requiredKeys: ['method'], noNullPrototype: true },
  );
}

/** A JSON-RPC HTTP body of every kind the router must survive, with its content type. */
export function rpcBody(
  surface: RpcSurface,
): fc.Arbitrary<{ readonly type: string; readonly body: Body }> {
  const request = rpcRequest(surface);
  const member = fc.oneof({ weight: 4, arbitrary: request }, jsonValue());
  const hugeId = fc
    .tuple(hugeNumberText, fc.constantFrom(...surface.methods))
    .map(([n, m]) => `{"jsonrpc":"2.0","id":${n},"method":"${m}","params":{"limit":${n}}}`);
  // a trainer.move that is valid, or valid but for a few generated params: some are accepted
  const nearlyValidMove = fc
    .tuple(
      fc.record({
        action: fc.constantFrom('start', 'stop'),
        directionX: fc.integer({ min: -1, max: 1 }),
        directionY: fc.integer({ min: -1, max: 1 }),
      }),
      fc.option(objectOf(surface.fields), { freq: 3 }),
      rpcId,
    )
    .map(([params, changes, id]) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'trainer.move',
        params: { ...params, ...changes },
      }),
    );
  const deep = fc
    .tuple(fc.constantFrom(...surface.methods), fc.constantFrom(...surface.fields), deeplyNested)
    .map(
      ([m, field, json]) =>
        `{"jsonrpc":"2.0","id":1,"method":"${m}","params":{"${field}":${json}}}`,
    );
  return fc.record({
    type: contentType,
    body: fc.oneof(
      { weight: 5, arbitrary: request.map((r) => JSON.stringify(r)) },
      deep,
      nearlyValidMove,
      { weight: 3, arbitrary: fc.array(member, { maxLength: 6 }).map((b) => JSON.stringify(b)) },
      jsonValue(surface.fields).map((v) => JSON.stringify(v) ?? 'null'),
      malformedJson(request),
      invalidUtf8,
      hugeId,
    ),
  });
}

// --- REST -------------------------------------------------------------------------------------

/** Fields of the seed-003 REST bodies (connections, deployments). */
export const REST_FIELDS = [
  'owner',
  'repo',
  'repository',
  'branch',
  'token',
  'accessToken',
  'accessKeyId',
  'secretAccessKey',
  'region',
  'roleArn',
  'githubConnectionId',
  'awsConnectionId',
  'connectionId',
  'environment',
  'commandId',
] as const;

/**
 * A body of a JSON route, with a content type right or wrong: a valid object (some with generated
 * fields over it), an object of known fields, other JSON, malformed text, invalid UTF-8, a huge
 * number.
 */
export function jsonBody(
  fields: readonly [string, ...string[]],
  valid: fc.Arbitrary<object>,
): fc.Arbitrary<{ readonly type: string; readonly body: Body }> {
  const nearlyValid = fc
    .tuple(valid, fc.option(objectOf(fields), { freq: 2 }))
    .map(([object, changes]) => JSON.stringify({ ...object, ...changes }));
  return fc.record({
    type: contentType,
    body: fc.oneof(
      nearlyValid,
      { weight: 5, arbitrary: objectOf(fields).map((o) => JSON.stringify(o)) },
      jsonValue(fields).map((v) => JSON.stringify(v) ?? 'null'),
      malformedJson(objectOf(fields)),
      invalidUtf8,
      hugeNumberText.map((n) => `{"${fields[0]}":${n}}`),
      deeplyNested.map((json) => `{"${fields[0]}":${json}}`),
    ),
  });
}

/** A seed-003 REST body; the valid ones are `connect.github`'s. */
export const restBody = jsonBody(
  REST_FIELDS,
  fc.record({
    owner: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    repo: fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/),
    branch: fc.constantFrom('main', 'dev', 'release/1.0'),
    token: fc.stringMatching(/^ghp_[A-Za-z0-9]{36}$/),
  }),
);

// --- event streams ----------------------------------------------------------------------------

/** A topic pattern as the grammar allows it (tokens, `*`, `>` last). */
export const validTopicPattern: fc.Arbitrary<string> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9_:-]{1,12}$/) },
        fc.constant('*'),
      ),
      { minLength: 1, maxLength: 5 },
    ),
    fc.boolean(),
  )
  .map(([tokens, rest]) => [...tokens, ...(rest ? ['>'] : [])].join('.'));

/** A topic pattern, valid or not. */
export const topicPatternText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: validTopicPattern },
  fc
    .array(fc.oneof(shortText, fc.constantFrom('*', '>', '')), { maxLength: 5 })
    .map((t) => t.join('.')),
  shortText,
);

/** A filter value the query string can carry (no `,`, which separates values there). */
export const filterValue = fc.stringMatching(/^[^,]{1,20}$/);

/** Valid subscription input: topics and filters that fit the default limits. */
export const validSubscription = fc.record(
  {
    topics: fc.array(validTopicPattern, { minLength: 1, maxLength: 4 }),
    filters: fc.dictionary(
      fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/),
      fc.uniqueArray(filterValue, { minLength: 1, maxLength: 3 }),
      { minKeys: 1, maxKeys: 3, noNullPrototype: true },
    ),
  },
  { requiredKeys: [] },
);

/** A query-string parameter of a `GET /events`-like request: known names, or anything. */
const queryParam = fc.tuple(
  fc.oneof(
    fc.constantFrom('topics', 'sessionId', 'lastEventId', 'fromVersion', 'userId', 'groups'),
    fc.oneof(objectKey(), fc.constant('')).map((k) => `filter.${k}`),
    shortText,
  ),
  fc.oneof(
    topicPatternText,
    fc.array(topicPatternText, { maxLength: 4 }).map((t) => t.join(',')),
    shortText,
    fc.integer().map(String),
    hugeNumberText,
    fc.string({ minLength: 300, maxLength: 600 }),
  ),
);

/** A query string's parameters (repeated names allowed). */
export const queryParams: fc.Arbitrary<URLSearchParams> = fc
  .array(queryParam, { maxLength: 6 })
  .map((pairs) => new URLSearchParams(pairs));

/** A `Last-Event-ID`: well formed (`epoch:ms-seq`), nearly so, numeric, or anything. */
export const lastEventId: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9]{1,32}$/), fc.bigInt(0n, 10n ** 20n - 1n), fc.nat())
    .map(([epoch, ms, seq]) => `${epoch}:${ms}-${seq}`),
  fc.integer().map(String),
  hugeNumberText,
  fc.constantFrom('', ' ', '0', '-1', '1.5', 'NaN', 'Infinity', 'a:b', ':0-0', 'x:1-', '1e3'),
  shortText,
);

/** A `POST /api/v1/sse/subscribe` body; the valid ones change the session `sessionId`. */
export function subscribeBody(sessionId: string) {
  const valid = validSubscription.map((subscription) => ({ ...subscription, sessionId }));
  return jsonBody(['sessionId', 'topics', 'filters'], valid);
}
