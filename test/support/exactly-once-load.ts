/**
 * The load of the exactly-once crash tests: one valid `trainer.move` start per command id, sent
 * with `inFlight` at once to the cluster's live instances, each retried with the same commandId
 * on another instance after a timeout (-32030) or an internal error (-32603, an instance dying
 * under it) until answered; instance `a` is SIGKILLed once a third are answered. Any other answer
 * is a bug and fails the load.
 */
import { randomUUID } from 'node:crypto';
import { RpcCallError, RpcClient } from '../../src/client/index.js';
import type { Cluster } from './cluster.js';

/** One command of the load. */
export interface MoveCommand {
  readonly commandId: string;
  readonly trainerId: string;
  readonly directionX: number;
  readonly directionY: number;
}

/** `count` commands over `trainers` trainers (`t0`…), each its own user. */
export function movesFor(count: number, trainers: number): MoveCommand[] {
  return Array.from({ length: count }, (_, i) => ({
    commandId: randomUUID(),
    trainerId: `t${i % trainers}`,
    directionX: Math.cos(i),
    directionY: Math.sin(i) || 1,
  }));
}

/** Sends every command until answered; resolves with the retries it took. */
export async function sendEachUntilAnswered(
  commands: readonly MoveCommand[],
  cluster: Cluster,
  inFlight: number,
): Promise<{ retries: number }> {
  let next = 0;
  let done = 0;
  let retries = 0;
  let killed = false;
  const worker = async () => {
    while (next < commands.length) {
      const c = commands[next++]!;
      for (let attempt = 0; ; attempt++) {
        const urls = cluster.liveUrls();
        const url = urls[(attempt + next) % Math.max(urls.length, 1)];
        try {
          if (!url) throw new Error('no live instance');
          const client = new RpcClient({ url, headers: { 'X-User-Id': c.trainerId } });
          await client.call('trainer.move', { action: 'start', ...c }, AbortSignal.timeout(10_000));
          break;
        } catch (error) {
          // a domain answer would be a bug here: every call is a valid start
          if (error instanceof RpcCallError && error.code !== -32030 && error.code !== -32603)
            throw error;
          if (attempt > 60)
            throw new Error(`command ${c.commandId} failed ${attempt} times: ${String(error)}`);
          retries += 1;
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
        }
      }
      done += 1;
      if (!killed && done >= commands.length / 3) {
        killed = true;
        await cluster.kill('a');
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { retries };
}
