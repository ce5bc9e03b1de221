import { expect } from 'chai';
import { readLoop } from '../../src/events/read-loop.js';
import { silentLogger } from '../../src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('readLoop: closing', () => {
  it('leaves behind a read its interrupt does not end (a Cluster client disconnected mid-failover), and never handles what it returns', async () => {
    let finishRead: (batch: number[]) => void = () => {};
    const handled: number[][] = [];
    const loop = readLoop<number>({
      what: 'test read',
      logger: silentLogger,
      read: () => new Promise((resolve) => (finishRead = resolve)),
      handle: (batch) => void handled.push([...batch]),
      interrupt: () => {}, // like ioredis's Cluster client: the queued command stays queued
    });
    await sleep(10);
    const closed = await Promise.race([
      loop.close().then(() => 'closed'),
      sleep(5000).then(() => 'hung'),
    ]);
    expect(closed).to.equal('closed');
    finishRead([1, 2]);
    await loop.done;
    expect(handled).to.deep.equal([]);
  });

  it('waits for a running handler to return, however long it takes', async () => {
    let reads = 0;
    let handlerDone = false;
    const loop = readLoop<number>({
      what: 'test read',
      logger: silentLogger,
      read: async () => (reads++ === 0 ? [1] : new Promise<number[]>(() => {})),
      handle: async () => {
        await sleep(1500);
        handlerDone = true;
      },
      interrupt: () => {},
    });
    await sleep(10);
    await loop.close();
    expect(handlerDone).to.equal(true);
  });
});
