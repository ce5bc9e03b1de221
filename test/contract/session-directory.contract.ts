import { expect } from 'chai';
import {
  type DirectoryLimits,
  type SessionDirectory,
  type SubscriptionSpec,
  specOf,
} from '../../src/index.js';

/** What a contract run needs from an adapter. */
export interface SessionDirectoryFixture {
  readonly directory: SessionDirectory;
  cleanup(): Promise<void>;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SessionDirectory contract (src/sse/directory.ts), run against every adapter. */
export function describeSessionDirectoryContract(
  adapter: string,
  makeFixture: (limits: DirectoryLimits) => Promise<SessionDirectoryFixture>,
): void {
  describe(`SessionDirectory contract: ${adapter}`, () => {
    let f: SessionDirectoryFixture | undefined;
    const open = async (limits: DirectoryLimits) => {
      f = await makeFixture(limits);
      return f.directory;
    };
    afterEach(async () => {
      await f?.cleanup();
      f = undefined;
    });
    const spec = (topic: string): SubscriptionSpec => specOf({ topics: [topic] });

    it("lists every instance's presence (on a cluster: whichever master holds it), and forgets a cleared one", async () => {
      const directory = await open({ maxSessionsPerUser: 8 });
      const servers = ['a', 'b', 'c', 'd', 'e'];
      for (const [i, server] of servers.entries()) {
        await directory.setPresence(server, new Map([[`user-${i}`, i + 1]]), 60_000);
      }
      await directory.clearPresence('c');
      const listed = await directory.presence();
      expect(listed.map((p) => p.serverId)).to.deep.equal(['a', 'b', 'd', 'e']);
      expect(listed[2]).to.deep.equal({ serverId: 'd', sessions: 4, users: ['user-3'] });
      // several times: a scan of one random node would miss them now and then
      for (let i = 0; i < 5; i++) expect(await directory.presence()).to.deep.equal(listed);
    });

    it('keeps a record; a reconnect keeps its spec, a change replaces it', async () => {
      const directory = await open({ maxSessionsPerUser: 4 });
      expect(await directory.keep('s1', { userId: 'ash', spec: spec('a') }, false)).to.equal(
        'kept',
      );
      expect(await directory.get('s1')).to.deep.equal({ userId: 'ash', spec: spec('a') });
      await directory.keep('s1', { userId: 'ash', spec: spec('b') }, false);
      expect((await directory.get('s1'))?.spec, 'a reconnect').to.deep.equal(spec('a'));
      await directory.keep('s1', { userId: 'ash', spec: spec('c') }, true);
      expect((await directory.get('s1'))?.spec, 'a change').to.deep.equal(spec('c'));
      expect(await directory.get('s2')).to.equal(undefined);
    });

    it('refuses a user more sessions than SSE_MAX_SESSIONS_PER_USER, writing nothing', async () => {
      const directory = await open({ maxSessionsPerUser: 3 });
      const outcomes = [];
      for (const id of ['s1', 's2', 's3', 's4']) {
        outcomes.push(await directory.keep(id, { userId: 'ash', spec: spec(id) }, false));
      }
      expect(outcomes).to.deep.equal(['kept', 'kept', 'kept', 'too-many']);
      expect(await directory.get('s4')).to.equal(undefined);
      expect(
        await directory.keep('s1', { userId: 'ash', spec: spec('x') }, true),
        'kept ones',
      ).to.equal('kept');
      expect(await directory.keep('m1', { userId: 'misty', spec: spec('m') }, false)).to.equal(
        'kept',
      );
    });

    it('forgets a record its TTL after the last use, and it then no longer counts', async () => {
      const directory = await open({ maxSessionsPerUser: 1, ttlMs: 400 });
      await directory.keep('s1', { userId: 'ash', spec: spec('a') }, false);
      await wait(250);
      await directory.keep('s1', { userId: 'ash', spec: spec('a') }, false); // used again
      await wait(250);
      expect(await directory.get('s1'), 'refreshed by its last use').to.not.equal(undefined);
      expect(await directory.keep('s2', { userId: 'ash', spec: spec('b') }, false)).to.equal(
        'too-many',
      );
      await wait(300);
      expect(await directory.get('s1'), 'expired').to.equal(undefined);
      expect(await directory.keep('s2', { userId: 'ash', spec: spec('b') }, false)).to.equal(
        'kept',
      );
    });
  });
}
