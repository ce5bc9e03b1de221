import { expect } from 'chai';
import {
  delivers,
  EVERYTHING,
  type NotificationEntry,
  specOf,
  subscriptionFromQuery,
  subscriptionInput,
  topicMatches,
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
