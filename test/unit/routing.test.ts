import { expect } from 'chai';
import {
  checkSubscriptionLimits,
  delivers,
  EVERYTHING,
  type NotificationEntry,
  specOf,
  subscriptionFromQuery,
  subscriptionInput,
  topicMatches,
  ValidationError,
} from '../../src/index.js';

const note = (over: Partial<NotificationEntry> = {}): NotificationEntry => ({
  id: '1-0',
  method: 'deployment.stage',
  params: { deploymentId: 'd1', credential_id: 'c-7', stage: 3 },
  target: 'user',
  targetIds: ['ash'],
  topic: 'deployment.d1',
  serverId: 's',
  ...over,
});

describe('SSE routing (SPEC.md §5 "Who gets what")', () => {
  it('matches topic patterns: * is one token, > the rest', () => {
    const cases: [string, string, boolean][] = [
      ['trainer.ash', 'trainer.ash', true],
      ['trainer.*', 'trainer.ash', true],
      ['trainer.*', 'trainer.ash.x', false],
      ['trainer.>', 'trainer.ash.x', true],
      ['trainer.>', 'trainer', false],
      ['>', 'anything.at.all', true],
      ['*.ash', 'trainer.ash', true],
      ['trainer.ash', 'trainer', false],
    ];
    for (const [pattern, topic, want] of cases)
      expect(topicMatches(pattern, topic), `${pattern} ~ ${topic}`).to.equal(want);
  });

  it('delivers only what is addressed to the user, a group of theirs, or everyone', () => {
    const ash = { userId: 'ash', groups: ['gym'] };
    const misty = { userId: 'misty', groups: ['water'] };
    expect(delivers(ash, EVERYTHING, note())).to.equal(true);
    expect(delivers(misty, EVERYTHING, note())).to.equal(false);
    expect(delivers(misty, specOf({ topics: ['>'] }), note()), 'topics never widen').to.equal(
      false,
    );
    expect(delivers(misty, EVERYTHING, note({ target: 'group', targetIds: ['water'] }))).to.equal(
      true,
    );
    expect(delivers(ash, EVERYTHING, note({ target: 'group', targetIds: ['water'] }))).to.equal(
      false,
    );
    expect(delivers(misty, EVERYTHING, note({ target: 'broadcast', targetIds: [] }))).to.equal(
      true,
    );
  });

  it('narrows by topics and by filters; credentialId and credential_id are one field', () => {
    const ash = { userId: 'ash', groups: [] };
    expect(delivers(ash, specOf({ topics: ['deployment.d2'] }), note())).to.equal(false);
    expect(delivers(ash, specOf({ topics: ['deployment.*'] }), note())).to.equal(true);
    expect(
      delivers(ash, specOf({ topics: ['x'] }), note({ topic: '' })),
      'no topic, but patterns',
    ).to.equal(false);
    expect(delivers(ash, specOf({ filters: { credentialId: ['c-7'] } }), note())).to.equal(true);
    expect(delivers(ash, specOf({ filters: { CREDENTIAL_ID: ['c-8'] } }), note())).to.equal(false);
    expect(
      delivers(ash, specOf({ filters: { stage: ['3'] } }), note()),
      'compared as strings',
    ).to.equal(true);
    expect(delivers(ash, specOf({ filters: { missing: ['x'] } }), note())).to.equal(false);
  });

  it('reads topics and filter.<field> from a query, and refuses bad patterns', () => {
    const q = new URLSearchParams('topics=trainer.*,deployment.>&filter.credentialId=a,b');
    expect(subscriptionFromQuery(q)).to.deep.equal({
      topics: ['trainer.*', 'deployment.>'],
      filters: { credentialId: ['a', 'b'] },
    });
    for (const bad of ['a..b', '>.x', 'a b', '']) {
      expect(subscriptionInput.safeParse({ topics: [bad] }).success, bad).to.equal(false);
    }
  });
});

describe('SSE filter limits and matching cost (hardening issue: quadratic filters)', () => {
  const limits = { maxFilters: 16, maxFilterValues: 32 };
  const fields = (count: number, values = 1) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `field_${i}`,
        Array.from({ length: values }, (_, v) => `v${v}`),
      ]),
    );
  const refusal = (filters: Record<string, string[]>) => {
    try {
      checkSubscriptionLimits(specOf({ filters }), limits);
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      return (error as ValidationError).message;
    }
    return undefined;
  };

  it('refuses more filter fields than SSE_MAX_FILTERS and more values than SSE_MAX_FILTER_VALUES, naming the limit', () => {
    expect(refusal(fields(16, 2))).to.equal(undefined);
    expect(refusal(fields(700))).to.match(/700 filter fields, at most 16 \(SSE_MAX_FILTERS\)/);
    expect(refusal(fields(2, 17))).to.match(/34 filter values, at most 32 .*SSE_MAX_FILTER_VALUES/);
    // spellings that normalise alike are one field; repeated values count once
    expect(
      refusal({ ...fields(16), FIELD_0: ['v0'], Field0: ['v0', 'v0'] }),
      'one field, one value',
    ).to.equal(undefined);
  });

  it("normalises a notification's params keys once, however many sessions with filters look at it", () => {
    const ash = { userId: 'ash', groups: [] };
    const params: Record<string, string> = {};
    for (let k = 0; k < 700; k++) params[`field_${k}`] = 'v0';
    let keyListings = 0;
    const counted = new Proxy(params, {
      ownKeys(target) {
        keyListings += 1;
        return Reflect.ownKeys(target);
      },
    });
    const n = note({ params: counted, target: 'broadcast', targetIds: [] });
    // 100 sessions, each with its own 16 filters, every one of which matches
    const specs = Array.from({ length: 100 }, () => specOf({ filters: fields(16) }));
    expect(specs.filter((spec) => delivers(ash, spec, n))).to.have.length(100);
    expect(keyListings, 'params keys listed once, not once per filter per session').to.equal(1);
    const other = note({ params: { ...params, field_3: 'nope' } });
    expect(specs.filter((spec) => delivers(ash, spec, other))).to.have.length(0);
  });
});

describe('SSE filter field names (hardening issue: spoofable and prototype names)', () => {
  const ash = { userId: 'ash', groups: [] };
  const fromBrock = specOf({ filters: { from: ['brock'] } });
  const message = (params: Record<string, string>) =>
    note({ method: 'message.chat', params, target: 'user', targetIds: ['ash'] });

  it('never lets a client-sent key that normalises like a server-set field pass its filter', () => {
    // the server adds `from` last (the sender); misty claims to be brock under other spellings
    for (const spoof of ['FROM', 'From', 'f_r_o_m', '_from_']) {
      const spoofed = message({ text: 'hi', [spoof]: 'brock', from: 'misty' });
      expect(delivers(ash, fromBrock, spoofed), spoof).to.equal(false);
      const reordered = message({ from: 'misty', [spoof]: 'brock' });
      expect(delivers(ash, fromBrock, reordered), `${spoof} after from`).to.equal(false);
    }
    expect(delivers(ash, fromBrock, message({ text: 'hi', from: 'brock' }))).to.equal(true);
    // spellings that agree are one value: nothing to spoof
    expect(delivers(ash, fromBrock, message({ FROM: 'brock', from: 'brock' }))).to.equal(true);
  });

  it('takes prototype names (constructor, toString, __proto__) as plain fields', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      const query = new URLSearchParams(`filter.${name}=x&filter.a=1`);
      const parsed = subscriptionInput.parse(subscriptionFromQuery(query));
      const spec = specOf(parsed);
      expect(Object.keys(spec.filters), name).to.have.length(2);
      const n = note({ params: { [name]: 'x', a: 1 } });
      expect(delivers(ash, spec, n), name).to.equal(true);
      expect(delivers(ash, spec, note({ params: { a: 1 } })), `${name} missing`).to.equal(false);
    }
    const proto = subscriptionFromQuery(new URLSearchParams('filter.__proto__=x'));
    expect(Object.getPrototypeOf(proto.filters)).to.equal(Object.prototype);
  });
});

describe('compareStreamIds', () => {
  it('orders stream ids as pairs of integers, "0" first', async () => {
    const { compareStreamIds } = await import('../../src/index.js');
    const ordered = [
      '0',
      '0-1',
      '9-0',
      '10-0',
      '10-2',
      '10-10',
      '1796200000000-0',
      '1796200000000-1',
    ];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(
          compareStreamIds(ordered[i]!, ordered[j]!),
          `${ordered[i]} vs ${ordered[j]}`,
        ).to.equal(Math.sign(i - j));
      }
    }
  });
});
