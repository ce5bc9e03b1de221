import { expect } from 'chai';
import {
  type CloseReason,
  EVERYTHING,
  type NotificationRecord,
  type SessionBounds,
  SseSession,
  startEventStream,
} from '../../src/index.js';
import { memoryHub } from '../support/memory-hub.js';
import { eventually, stalledReader, unixServer } from '../support/stalled-reader.js';

const BLOB = 'x'.repeat(15_000);

/**
 * A hub on a memory store behind a unix-socket server: each request opens a session of
 * `ash` resuming from the start of the notifications stream (a client that missed everything).
 */
async function resumeServer(bounds: SessionBounds) {
  const { store, hub } = memoryHub();
  let sent = 0;
  const notify = async (count: number, to = 'ash') => {
    const notifications: NotificationRecord[] = Array.from({ length: count }, () => ({
      method: 'message.big',
      params: { blob: BLOB },
      target: 'user',
      targetIds: [to],
    }));
    sent += count;
    await store.append(`messages-${sent}`, [{ type: 'Note', data: {} }], { notifications });
  };
  const sessions: SseSession[] = [];
  const closes: CloseReason[] = [];
  await notify(200); // 3 MB missed: the socket fills long before
  await hub.start();
  const epoch = hub.position.split(':')[0];
  const server = await unixServer((_req, res) => {
    startEventStream(res, 1000);
    const session = new SseSession(
      res,
      's',
      { userId: 'ash', groups: [] },
      EVERYTHING,
      bounds,
      '0-0',
    );
    session.onClose = (reason) => {
      closes.push(reason);
      hub.detach(session);
    };
    sessions.push(session);
    void hub.attach(session, `${epoch}:0-0`);
  });
  return {
    hub,
    notify,
    sessions,
    closes,
    open: () => stalledReader(server.socketPath, '/'),
    close: async () => {
      await hub.close();
      await server.close();
      await store.close();
    },
  };
}

type ResumeServer = Awaited<ReturnType<typeof resumeServer>>;

describe('a resume whose client does not read (replay-to-live hand-over, DESIGN.md G7)', () => {
  let r: ResumeServer | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('holds back only what is addressed to the session, and cuts it off past SSE_MAX_BUFFERED_BYTES', async () => {
    r = await resumeServer({ maxBufferedBytes: 256 * 1024, stallTimeoutMs: 60_000 });
    await r.open();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the replay waits for the socket
    const session = r.sessions[0]!;
    expect(session.closed, 'still replaying').to.equal(false);
    await r.notify(100, 'misty'); // not addressed to it: never held
    expect(session.closed, 'what others get costs it nothing').to.equal(false);
    let rounds = 0;
    while (!session.closed && rounds < 100) {
      await r.notify(2); // 30 KB a round addressed to it
      rounds += 1;
    }
    expect(r.closes).to.deep.equal(['slow']);
    expect(session.slowBecause).to.equal('buffered');
    expect(session.bufferedAtClose).to.be.within(256 * 1024, 256 * 1024 + 64 * 1024);
    expect(rounds, 'cut off a few rounds past the bound').to.be.below(20);
    expect(await eventually(() => r!.hub.sessions.size === 0), 'detached').to.equal(true);
  });

  it('cuts off a replay that takes nothing for SSE_STALL_TIMEOUT_MS, with no live traffic at all', async () => {
    r = await resumeServer({ maxBufferedBytes: 1024 * 1024, stallTimeoutMs: 300 });
    await r.open();
    expect(await eventually(() => r!.closes.length > 0, 5000), 'cut off').to.equal(true);
    expect(r.closes).to.deep.equal(['slow']);
    expect(r.sessions[0]!.slowBecause).to.equal('stalled');
  });
});
