/** Messages: send `message.*` to users (groups and everyone for admins) and see what arrives. */
import { useEffect, useState } from 'preact/hooks';
import { RpcCallError } from '../../src/client/index.js';
import { command } from './failover-rpc.js';
import { type Live, MESSAGE_METHODS } from './live.js';

type TargetType = 'user' | 'group' | 'broadcast';

export function MessagesView({ live }: { live: Live }) {
  const [inbox, setInbox] = useState(live.inbox);
  const [targetType, setTargetType] = useState<TargetType>('user');
  const [targetIds, setTargetIds] = useState('');
  const [method, setMethod] = useState<string>(MESSAGE_METHODS[0]);
  const [text, setText] = useState('');
  const [sent, setSent] = useState('');
  useEffect(() => live.listen(() => setInbox(live.inbox)), [live]);
  const admin = live.identity.isAdmin;

  const send = async (e: Event) => {
    e.preventDefault();
    const ids = targetIds
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const result = await live.rpc.call<{ commandId: string }>(
        'message.broadcast',
        command({
          targetType,
          ...(targetType === 'broadcast' ? {} : { targetIds: ids }),
          method,
          topic: method,
          params: { text },
        }),
      );
      setSent(`sent (command ${result.commandId})`);
      setText('');
    } catch (err) {
      setSent(err instanceof RpcCallError ? `refused: ${err.message} (${err.code})` : String(err));
    }
  };

  return (
    <div class="two-columns">
      <form class="card" onSubmit={send}>
        <h2>Send</h2>
        <label>
          To
          <select
            data-testid="msg-target-type"
            value={targetType}
            onChange={(e) => setTargetType(e.currentTarget.value as TargetType)}
          >
            <option value="user">users</option>
            {admin && <option value="group">groups</option>}
            {admin && <option value="broadcast">everyone</option>}
          </select>
        </label>
        {targetType !== 'broadcast' && (
          <label>
            {targetType === 'user' ? 'User ids' : 'Group ids'} (comma list)
            <input
              data-testid="msg-target-ids"
              value={targetIds}
              required
              onInput={(e) => setTargetIds(e.currentTarget.value)}
            />
          </label>
        )}
        <label>
          Kind
          <select
            data-testid="msg-method"
            value={method}
            onChange={(e) => setMethod(e.currentTarget.value)}
          >
            {MESSAGE_METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Text
          <input
            data-testid="msg-text"
            value={text}
            required
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" data-testid="msg-send">
          Send
        </button>
        <p data-testid="msg-sent" role="status">
          {sent}
        </p>
      </form>
      <section class="card" aria-labelledby="inbox-heading">
        <h2 id="inbox-heading">Arrived ({inbox.length})</h2>
        <ul class="inbox" data-testid="msg-inbox">
          {inbox.map((m) => (
            <li key={m.id} data-testid="msg-item" data-from={m.from} data-method={m.method}>
              <time>{new Date(m.receivedAt).toLocaleTimeString()}</time> <strong>{m.from}</strong>{' '}
              <code>{m.method}</code> {m.text}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
