import { expect } from 'chai';
import fc from 'fast-check';
import { setSubscriptionQuery } from '../../src/client/subscribe.js';
import { parseInput } from '../../src/error-codes.js';
import { ValidationError } from '../../src/errors.js';
import { isJsonObject } from '../../src/events/json.js';
import {
  Admission,
  MemorySessionDirectory,
  makeCaller,
  Realtime,
  silentLogger,
} from '../../src/index.js';
import { filtersPass } from '../../src/sse/filters.js';
import { parseSseId, sseId } from '../../src/sse/frames.js';
import {
  specOf,
  subscriptionFromQuery,
  subscriptionInput,
  topicMatches,
  topicPattern,
} from '../../src/sse/routing.js';
import { checkSubscriptionLimits } from '../../src/sse/subscription-limits.js';
import {
  fuzzSettings,
  jsonValue,
  lastEventId,
  queryParams,
  topicPatternText,
  validSubscription,
  validTopicPattern,
} from '../support/arbitraries.js';
import { memoryHub } from '../support/memory-hub.js';

const RUNS = 20_000;
const LIMITS = { maxFilters: 16, maxFilterValues: 32 };

/** Runs a property with a printed seed; answers how many inputs were accepted and refused. */
type Outcome = 'accepted' | 'refused';

async function check<T>(
  what: string,
  arbitrary: fc.Arbitrary<T>,
  classify: (input: T) => Promise<Outcome> | Outcome,
): Promise<{ accepted: number; refused: number }> {
  const settings = fuzzSettings(RUNS);
  const counts = { accepted: 0, refused: 0 };
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      counts[await classify(input)] += 1;
    }),
    settings,
  );
  process.stdout.write(
    `      ${what}: seed ${settings.seed}, ${settings.numRuns} runs, ${counts.accepted} accepted, ${counts.refused} refused\n`,
  );
  return counts;
}

/** `accepted` when `run` returns, `refused` when it throws a ValidationError; anything else fails. */
async function valueOrValidationError(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return 'accepted';
  } catch (error) {
    if (error instanceof ValidationError) return 'refused';
    throw error;
  }
}

/** What `GET /events` does with its query before anything is written (plain-events.ts). */
function prepareOf() {
  const { hub } = memoryHub();
  const realtime = new Realtime({
    hub,
    directory: new MemorySessionDirectory({ maxSessionsPerUser: 8 }),
    serverId: 'fuzz',
    admission: new Admission({ maxConnections: 8, maxPerUser: 8 }),
    bounds: { maxBufferedBytes: 1 << 20, stallTimeoutMs: 30_000 },
    limits: LIMITS,
    maxSessionsPerUser: 8,
    retryMs: 1000,
    presenceTtlMs: 30_000,
    logger: silentLogger,
  });
  const caller = makeCaller('ash', [], []);
  return (query: URLSearchParams) =>
    realtime.prepare(caller, {
      ...(query.get('sessionId') ? { sessionId: query.get('sessionId')! } : {}),
      subscription: subscriptionFromQuery(query),
    });
}

/** Topics and filters as `GET /events` and `POST /api/v1/sse/subscribe` take them. */
function parseSubscription(input: unknown) {
  const spec = specOf(parseInput(subscriptionInput, input, 'invalid topics or filters'));
  checkSubscriptionLimits(spec, LIMITS);
  return spec;
}

describe('fuzz: the event-stream parsers (fast-check, 20,000 inputs each)', function () {
  this.timeout(60_000);

  it('the GET /events query gives a session or a ValidationError, and a formatted subscription reads back', async () => {
    const prepare = prepareOf();
    const counts = await check('GET /events query', queryParams, (q) =>
      valueOrValidationError(() => prepare(q)),
    );
    expect(counts.refused, 'refused queries').to.be.greaterThan(0);
    expect(counts.accepted, 'accepted queries').to.be.greaterThan(0);
    await check(
      'subscription query round trip',
      validSubscription,
      async (input): Promise<Outcome> => {
        const q = new URLSearchParams();
        setSubscriptionQuery(q, input);
        const prepared = await prepare(q);
        expect(prepared.spec).to.deep.equal(specOf(input));
        return 'accepted';
      },
    );
  });

  it('a Last-Event-ID parses to its epoch and entry id or to nothing, and a formatted one reads back', async () => {
    const counts = await check('Last-Event-ID', fc.oneof(lastEventId, fc.string()), (text) => {
      const parsed = parseSseId(text);
      if (!parsed) return 'refused';
      expect(sseId(parsed.epoch, parsed.entryId)).to.equal(text.trim());
      return 'accepted';
    });
    expect(counts.refused).to.be.greaterThan(0);
    expect(counts.accepted).to.be.greaterThan(0);
    const epoch = fc.stringMatching(/^[A-Za-z0-9]{1,32}$/);
    const entryId = fc.tuple(fc.bigInt(0n, 10n ** 20n - 1n), fc.bigInt(0n, 10n ** 20n - 1n));
    await check('Last-Event-ID round trip', fc.tuple(epoch, entryId), ([e, [ms, seq]]) => {
      expect(parseSseId(sseId(e, `${ms}-${seq}`))).to.deep.equal({
        epoch: e,
        entryId: `${ms}-${seq}`,
      });
      return 'accepted';
    });
  });

  it('a topic pattern is accepted or refused by its grammar, and a pattern matches the topics it stands for', async () => {
    const counts = await check('topic pattern', fc.oneof(topicPatternText, jsonValue()), (p) =>
      valueOrValidationError(() => parseSubscription({ topics: [p] })),
    );
    expect(counts.refused).to.be.greaterThan(0);
    expect(counts.accepted).to.be.greaterThan(0);
    const token = fc.stringMatching(/^[A-Za-z0-9_:-]{1,8}$/);
    const instance = fc.tuple(validTopicPattern, fc.array(token, { minLength: 6, maxLength: 6 }));
    await check('topic pattern matches its topics', instance, ([pattern, tokens]) => {
      expect(topicPattern.safeParse(pattern).success, pattern).to.equal(true);
      const parts = pattern.split('.');
      const topic = parts
        .map((t, i) => (t === '*' ? tokens[i]! : t === '>' ? tokens.slice(i).join('.') : t))
        .join('.');
      expect(topicMatches(pattern, topic), `${pattern} ~ ${topic}`).to.equal(true);
      expect(topicMatches(pattern, `${topic}.x`), `${pattern} ~ ${topic}.x`).to.equal(
        parts.at(-1) === '>',
      );
      return 'accepted';
    });
  });

  it('filters parse to a spec or a ValidationError, and any params pass them or not without throwing', async () => {
    const filters = fc.oneof(
      jsonValue(['a', 'b']),
      validSubscription.map((s) => s.filters ?? {}),
    );
    const input = fc.record({ filters, params: jsonValue(['a', 'b']) });
    const counts = await check('filters', input, ({ filters, params }) =>
      valueOrValidationError(() => {
        const spec = parseSubscription({ filters });
        const passed = filtersPass(spec.filters, isJsonObject(params) ? params : {});
        expect(passed).to.be.a('boolean');
        for (const field of Object.keys(spec.filters)) {
          expect(Object.hasOwn(spec.filters, field), field).to.equal(true);
        }
      }),
    );
    expect(counts.refused).to.be.greaterThan(0);
    expect(counts.accepted).to.be.greaterThan(0);
  });
});
