/**
 * The page's one live connection (`subscribe` of src/client over `GET /events`): trainers for the
 * field, messages for the inbox, and the connection state the bar shows — the serving instance
 * (`session.opened`), reconnecting, resumed from which id, and `stream.reset`, handled by
 * refetching every trainer.
 */
import { type ClientSubscription, RpcCallError, subscribe } from '../../src/client/index.js';
import { FailoverRpc } from './failover-rpc.js';
import type { ServerClock } from './field/interpolate.js';
import { positionUpdateOf, type TrainerField, type TrainerListItem } from './field/trainers.js';
import { type Identity, rpcHeaders, streamQuery } from './identity.js';

/** The message methods the console sends and listens for (EventSource needs their names). */
export const MESSAGE_METHODS = ['message.chat', 'message.alert', 'message.notice'] as const;

/** What the connection bar shows. */
export interface ConnectionState {
  readonly state: 'connecting' | 'live' | 'reconnecting';
  readonly serverId: string;
  readonly resumedFrom: string | null;
  readonly connections: number;
  readonly resets: number;
  /** Set after a reset: what happened and that the state was refetched. */
  readonly resetNotice: string;
}

/** A message that arrived. */
export interface ArrivedMessage {
  readonly id: string;
  readonly method: string;
  readonly from: string;
  readonly text: string;
  readonly receivedAt: number;
}

const INBOX_KEEP = 200;

/** The live connection of a signed-in page. */
export class Live {
  readonly rpc: FailoverRpc;
  conn: ConnectionState = {
    state: 'connecting',
    serverId: '',
    resumedFrom: null,
    connections: 0,
    resets: 0,
    resetNotice: '',
  };
  inbox: readonly ArrivedMessage[] = [];
  private subscription: ClientSubscription | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly identity: Identity,
    readonly urls: readonly string[],
    readonly field: TrainerField,
    readonly clock: ServerClock,
  ) {
    this.rpc = new FailoverRpc(urls, rpcHeaders(identity));
  }

  /** Calls `onChange` after each change of `conn` or `inbox`; returns the unsubscribe. */
  listen(onChange: () => void): () => void {
    this.listeners.add(onChange);
    return () => this.listeners.delete(onChange);
  }

  start(): void {
    this.subscription = subscribe({
      urls: this.urls,
      topics: ['trainer.>', 'message.>', 'deployment.>'],
      query: streamQuery(this.identity),
      methods: [...MESSAGE_METHODS],
      onOpen: (info) =>
        this.update({
          state: 'live',
          serverId: info.serverId,
          resumedFrom: info.resumedFrom,
          connections: this.subscription?.connections ?? 1,
        }),
      onDisconnect: () => this.update({ state: 'reconnecting' }),
      onReset: (reason) => {
        this.update({ resets: this.conn.resets + 1 });
        const at = () => new Date().toLocaleTimeString();
        this.refetch().then(
          () =>
            this.update({ resetNotice: `stream reset (${reason}): state refetched at ${at()}` }),
          (error: unknown) =>
            this.update({
              resetNotice: `stream reset (${reason}): refetching failed at ${at()} (${String(error)}); reload the page`,
            }),
        );
      },
      onNotification: (method, params, id) => this.onNotification(method, params, id),
    });
    this.refetch().catch((error: unknown) =>
      this.update({
        resetNotice: `could not load the trainers: ${String(error)}; reload the page`,
      }),
    );
  }

  close(): void {
    this.subscription?.close();
    this.listeners.clear();
  }

  /**
   * The trainers from the read model (at start and after a reset): every one for admins
   * (`trainer.list` is theirs), your own for others, who learn the rest from live updates.
   */
  async refetch(): Promise<void> {
    if (!this.identity.isAdmin) {
      try {
        const own = await this.rpc.call<TrainerListItem>('trainer.get', {
          trainerId: this.identity.userId,
        });
        this.field.applySnapshot([own]);
      } catch (error) {
        if (!(error instanceof RpcCallError && error.code === -32004)) throw error;
      }
      return;
    }
    let cursor: string | undefined;
    do {
      const page = await this.rpc.call<{ trainers: TrainerListItem[]; nextCursor: string | null }>(
        'trainer.list',
        { limit: 1000, ...(cursor ? { cursor } : {}) },
      );
      this.field.applySnapshot(page.trainers);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  private onNotification(method: string, params: unknown, id: string): void {
    if (method === 'position.update') {
      const update = positionUpdateOf(params);
      if (!update) return;
      this.clock.observe(Date.parse(update.at), Date.now());
      this.field.applyUpdate(update);
      return;
    }
    if (method.startsWith('message.')) {
      const p = (typeof params === 'object' && params !== null ? params : {}) as Record<
        string,
        unknown
      >;
      const text = typeof p.text === 'string' ? p.text : JSON.stringify(p);
      const from = typeof p.from === 'string' ? p.from : '?';
      const message = { id, method, from, text, receivedAt: Date.now() };
      this.inbox = [message, ...this.inbox].slice(0, INBOX_KEEP);
      this.notify();
    }
  }

  private update(change: Partial<ConnectionState>): void {
    this.conn = { ...this.conn, ...change };
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
