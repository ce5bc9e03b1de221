import { expect } from 'chai';
import {
  type BroadcastMessage,
  broadcastMessageParams,
  messageDecider,
  messageNotifications,
} from '../../src/domain/message.js';
import { givenDecider } from '../support/decider-given.js';

const send = (data: BroadcastMessage['data']): BroadcastMessage => ({
  type: 'BroadcastMessage',
  data,
  metadata: {
    commandId: 'c',
    userId: 'misty',
    correlationId: 'k',
    timestamp: '2026-01-01T00:00:00.000Z',
  },
});

describe('message decider (seed 004 BroadcastMessage)', () => {
  it('records the message with its sender and notifies its targets with params.from', () => {
    const data = {
      targetType: 'user',
      targetIds: ['ash', 'brock'],
      method: 'message.chat',
      params: { text: '안녕' },
      topic: 'message.room.1',
    } as const;
    givenDecider(messageDecider)([])
      .when(send(data))
      .then([{ type: 'MessageBroadcast', data: { ...data, from: 'misty' } }]);
    const [event] = messageDecider.decide(send(data), null);
    expect(messageNotifications(event!)).to.deep.equal([
      {
        method: 'message.chat',
        params: { text: '안녕', from: 'misty' },
        target: 'user',
        targetIds: ['ash', 'brock'],
        topic: 'message.room.1',
      },
    ]);
  });

  it('only lets users send message.* methods and topics, to someone', () => {
    const ok = { targetType: 'user', targetIds: ['ash'], method: 'message.chat', params: {} };
    expect(broadcastMessageParams.safeParse(ok).success).to.equal(true);
    expect(broadcastMessageParams.safeParse({ ...ok, method: 'position.update' }).success).to.equal(
      false,
    );
    expect(broadcastMessageParams.safeParse({ ...ok, method: 'message' }).success).to.equal(false);
    expect(broadcastMessageParams.safeParse({ ...ok, topic: 'trainer.ash' }).success).to.equal(
      false,
    );
    expect(broadcastMessageParams.safeParse({ ...ok, targetIds: [] }).success).to.equal(false);
    expect(broadcastMessageParams.safeParse({ ...ok, targetType: 'broadcast' }).success).to.equal(
      false,
    );
    expect(
      broadcastMessageParams.safeParse({ ...ok, targetType: 'broadcast', targetIds: undefined })
        .success,
    ).to.equal(true);
    expect(broadcastMessageParams.safeParse({ ...ok, params: 'text' }).success).to.equal(false);
  });
});
