import { expect } from 'chai';
import {
  type BroadcastMessage,
  type MessageBroadcast,
  type MessageData,
  messageBroadcastParams,
  messageDecider,
  messageNotifications,
  messageStreamId,
} from '../../src/domain/index.js';
import { ValidationError } from '../../src/errors.js';
import { deciderSpecification } from '../support/decider-spec.js';

const send = (data: MessageData, userId = 'misty'): BroadcastMessage => ({
  type: 'BroadcastMessage',
  data,
  metadata: { commandId: 'c', userId, correlationId: 'k', timestamp: '2026-01-01T00:00:00.000Z' },
});
const given = deciderSpecification(messageDecider);
const chat: MessageData = {
  targetType: 'user',
  targetIds: ['ash', 'brock'],
  method: 'message.chat',
  params: { text: '안녕', mood: { happy: true }, tags: ['a', 1, null] },
  topic: 'message.room.1',
};
const context = { streamId: 'messages-misty', version: 1, timestamp: '2026-01-01T00:00:00.000Z' };

describe('message decider (seed 004 BroadcastMessage)', () => {
  it('records the message as sent, with its sender from the metadata', () => {
    given([])
      .when(send(chat))
      .then([{ type: 'MessageBroadcast', data: { ...chat, from: 'misty' } }]);
  });

  it('records group and broadcast messages without a topic', () => {
    const toGroup: MessageData = {
      targetType: 'group',
      targetIds: ['gym-leaders'],
      method: 'message.announce',
      params: {},
    };
    given([])
      .when(send(toGroup, 'oak'))
      .then([{ type: 'MessageBroadcast', data: { ...toGroup, from: 'oak' } }]);
    const toAll: MessageData = { ...toGroup, targetType: 'broadcast', targetIds: [] };
    given([])
      .when(send(toAll, 'oak'))
      .then([{ type: 'MessageBroadcast', data: { ...toAll, from: 'oak' } }]);
  });

  it('does not check who may send to groups or everyone (the RPC layer does)', () => {
    const [event] = messageDecider.decide(
      send({ targetType: 'broadcast', targetIds: [], method: 'message.hi', params: {} }, 'nobody'),
      messageDecider.initialState(),
    );
    expect(event?.data.from).to.equal('nobody');
  });

  it('refuses server methods and topics even without the params schema', () => {
    const path = (data: MessageData) =>
      given([])
        .when(send(data))
        .thenThrows(ValidationError)
        .issues.map((i) => i.path);
    expect(path({ ...chat, method: 'position.update' })).to.deep.equal(['method']);
    expect(path({ ...chat, method: 'session.opened' })).to.deep.equal(['method']);
    expect(path({ ...chat, topic: 'trainer.ash' })).to.deep.equal(['topic']);
    expect(path({ ...chat, method: 'ping', topic: 'deployment.1' })).to.deep.equal([
      'method',
      'topic',
    ]);
  });

  it('refuses targets that do not fit the target type even without the params schema', () => {
    const path = (data: MessageData) =>
      given([])
        .when(send(data))
        .thenThrows(ValidationError)
        .issues.map((i) => `${i.path}: ${i.message}`);
    expect(path({ ...chat, targetIds: [] })).to.deep.equal(['targetIds: at least one user id']);
    expect(path({ ...chat, targetType: 'group', targetIds: [] })).to.deep.equal([
      'targetIds: at least one group id',
    ]);
    expect(path({ ...chat, targetType: 'broadcast' })).to.deep.equal([
      'targetIds: must be empty for broadcast',
    ]);
    expect(path({ ...chat, targetIds: ['ash', 'has space'] })).to.deep.equal([
      'targetIds.1: must be 1–128 characters of A–Z a–z 0–9 . _ : -',
    ]);
  });

  it('keeps no state', () => {
    expect(messageDecider.initialState()).to.equal(null);
    const event: MessageBroadcast = { type: 'MessageBroadcast', data: { ...chat, from: 'misty' } };
    expect(messageDecider.evolve(null, event)).to.equal(null);
  });

  it('names the stream messages-<userId> (the sender)', () => {
    expect(messageStreamId('misty')).to.equal('messages-misty');
  });
});

describe('message notifications', () => {
  it('delivers the method, params with from, the targets and the topic', () => {
    const event: MessageBroadcast = { type: 'MessageBroadcast', data: { ...chat, from: 'misty' } };
    expect(messageNotifications(event, context)).to.deep.equal([
      {
        method: 'message.chat',
        params: { text: '안녕', mood: { happy: true }, tags: ['a', 1, null], from: 'misty' },
        target: 'user',
        targetIds: ['ash', 'brock'],
        topic: 'message.room.1',
      },
    ]);
  });

  it('puts the real sender in params.from, whatever the client put there', () => {
    const [event] = messageDecider.decide(
      send({ ...chat, params: { text: 'hi', from: 'professor-oak' } }),
      null,
    );
    expect(event?.data.params).to.deep.equal({ text: 'hi', from: 'professor-oak' });
    const [notification] = messageNotifications(event!, context);
    expect(notification?.params).to.deep.equal({ text: 'hi', from: 'misty' });
  });

  it('leaves the topic out when there is none, and broadcasts to no ids', () => {
    const event: MessageBroadcast = {
      type: 'MessageBroadcast',
      data: {
        targetType: 'broadcast',
        targetIds: [],
        method: 'message.hi',
        params: {},
        from: 'oak',
      },
    };
    expect(messageNotifications(event, context)).to.deep.equal([
      { method: 'message.hi', params: { from: 'oak' }, target: 'broadcast', targetIds: [] },
    ]);
  });
});

describe('message.broadcast params (messageBroadcastParams)', () => {
  const ok = { targetType: 'user', targetIds: ['ash'], method: 'message.chat', params: {} };
  const paths = (params: unknown) => {
    const r = messageBroadcastParams.safeParse(params);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };

  it('accepts user messages, and group and broadcast ones shaped for them', () => {
    expect(paths(ok)).to.deep.equal([]);
    expect(
      paths({
        ...ok,
        method: 'message.chat.v2',
        topic: 'message.room:kanto.1',
        commandId: '3b241101-e2bb-4255-8caf-4136c566a962',
        params: { nested: { list: [1, 'two', false, null] } },
      }),
    ).to.deep.equal([]);
    expect(paths({ ...ok, targetType: 'group', targetIds: ['gym-leaders'] })).to.deep.equal([]);
    expect(paths({ ...ok, targetType: 'broadcast', targetIds: undefined })).to.deep.equal([]);
    expect(paths({ ...ok, targetType: 'broadcast', targetIds: [] })).to.deep.equal([]);
  });

  it('only lets users send message.* methods', () => {
    for (const method of [
      'position.update',
      'ping',
      'message',
      'message.',
      'messages.chat',
      'Message.chat',
      'message.a b',
      'message..chat',
      `message.${'x'.repeat(128)}`,
    ]) {
      expect(paths({ ...ok, method }), method).to.deep.equal(['method']);
    }
  });

  it('only lets users send on message.* topics, and never a pattern', () => {
    for (const topic of ['trainer.ash', 'deployment.1', 'message', 'message.*', 'message.>']) {
      expect(paths({ ...ok, topic }), topic).to.deep.equal(['topic']);
    }
  });

  it('needs ids for user and group and none for broadcast', () => {
    expect(paths({ ...ok, targetIds: [] })).to.deep.equal(['targetIds']);
    expect(paths({ ...ok, targetIds: undefined })).to.deep.equal(['targetIds']);
    expect(paths({ ...ok, targetType: 'group', targetIds: [] })).to.deep.equal(['targetIds']);
    expect(paths({ ...ok, targetType: 'broadcast' })).to.deep.equal(['targetIds']);
    expect(paths({ ...ok, targetIds: ['x'.repeat(129)] })).to.deep.equal(['targetIds.0']);
    expect(paths({ ...ok, targetIds: [''] })).to.deep.equal(['targetIds.0']);
  });

  it('refuses params that are not a JSON object, bad target types and bad command ids', () => {
    expect(paths({ ...ok, params: 'text' })).to.deep.equal(['params']);
    expect(paths({ ...ok, params: ['text'] })).to.deep.equal(['params']);
    expect(paths({ ...ok, params: null })).to.deep.equal(['params']);
    expect(paths({ ...ok, targetType: 'everyone' })).to.deep.equal(['targetType']);
    expect(paths({ ...ok, commandId: 'not-a-uuid' })).to.deep.equal(['commandId']);
  });

  it('describes every field for OpenRPC', () => {
    const undescribed = Object.entries(messageBroadcastParams.shape)
      .filter(([, field]) => !field.description)
      .map(([name]) => name);
    expect(undescribed).to.deep.equal([]);
  });
});
