/** JSON-RPC over plain fetch, and a steady `trainer.move` load that retries as a client should. */
import { randomUUID } from 'node:crypto';

/** A JSON-RPC answer as the tests read it. */
export interface RpcAnswer {
  readonly result?: { commandId?: string; serverId?: string } & Record<string, unknown>;
  readonly error?: { code: number; message: string };
}

/** One JSON-RPC call (as user `ash` unless `headers` say otherwise); the body only for HTTP 200. */
export async function rpc(
  base: string,
  method: string,
  params: object,
  headers: Record<string, string> = {},
  path = '/rpc',
): Promise<{ status: number; headers: Headers; body: RpcAnswer }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'ash', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: res.status === 200 ? (JSON.parse(text) as RpcAnswer) : {},
  };
}

/** One command of a load: how many tries it took and when it was first sent. */
export interface Sent {
  readonly commandId: string;
  readonly startedAt: number;
  attempts: number;
  ok: boolean;
  lastProblem?: string;
}

/** A running load; `stop` waits for the calls in flight. */
export interface Load {
  readonly sent: readonly Sent[];
  /** Commands answered so far. */
  done(): number;
  stop(): Promise<void>;
}

/**
 * `clients` users (`load-<n>`) each send `trainer.move` with a fresh commandId, one after another,
 * until `stop()` (at most 2000 each). A call that fails on the way (connection error, a 5xx from a
 * proxy) is sent again with the same commandId, as a client should, up to 5 times.
 */
export function trainerLoad(base: string, clients: number): Load {
  const sent: Sent[] = [];
  let stopping = false;
  const send = async (record: Sent, n: number, i: number) => {
    while (!record.ok && record.attempts < 5) {
      record.attempts += 1;
      try {
        const { status, body } = await rpc(
          base,
          'trainer.move',
          { action: 'start', directionX: 1, directionY: i % 7, commandId: record.commandId },
          { 'x-user-id': `load-${n}` },
        );
        record.ok = status === 200 && body.result?.commandId === record.commandId;
        if (!record.ok) record.lastProblem = `HTTP ${status} ${JSON.stringify(body.error ?? '')}`;
      } catch (error) {
        record.lastProblem = String(error);
      }
      if (!record.ok) await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const client = async (n: number) => {
    for (let i = 0; !stopping && i < 2000; i++) {
      const record: Sent = {
        commandId: randomUUID(),
        startedAt: Date.now(),
        attempts: 0,
        ok: false,
      };
      sent.push(record);
      await send(record, n, i);
    }
  };
  const running = Promise.all(Array.from({ length: clients }, (_, n) => client(n)));
  return {
    sent,
    done: () => sent.filter((s) => s.ok).length,
    stop: async () => {
      stopping = true;
      await running;
    },
  };
}

/** Resolves once `condition()` holds; rejects after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
