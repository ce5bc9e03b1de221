import { randomUUID } from 'node:crypto';
import { RpcCallError, RpcClient } from '../../src/client/index.js';

/** What a `trainer.move` answered. */
export interface MoveAnswer {
  readonly commandId: string;
  readonly trainerId: string;
  readonly version: number;
  readonly globalPosition: string;
}

/** A stream of `trainer.move` starts from several clients, each retried with its command id. */
export interface MoveLoad {
  readonly answers: MoveAnswer[];
  retries: number;
  /** Tries answered -32030 (a timeout, or a replica shortfall): counted in `retries` too. */
  unknownOutcomes: number;
  /** Moves answered "dead-lettered" (counted, not thrown, with `deadLetters: 'count'`). */
  deadLettered: string[];
  /** Stops sending and resolves once every call in flight has its answer. */
  stop(): Promise<void>;
}

/**
 * Sends moves for `trainers` trainers (`t0`…), each as its own user, `inFlight` at once, to the
 * instances `urls()` lists (retrying a failed call with the same command id on another instance),
 * until `stop()` or `limit` moves.
 */
export function startMoves(options: {
  urls(): readonly string[];
  trainers: number;
  inFlight: number;
  limit?: number;
  deadLetters?: 'throw' | 'count';
}): MoveLoad & { readonly done: Promise<void> } {
  let stopping = false;
  let sent = 0;
  const load = {
    answers: [] as MoveAnswer[],
    retries: 0,
    unknownOutcomes: 0,
    deadLettered: [] as string[],
    done: Promise.resolve(),
    async stop() {
      stopping = true;
      await load.done;
    },
  };
  const one = async (i: number) => {
    const trainerId = `t${i % options.trainers}`;
    const params = {
      action: 'start',
      directionX: Math.cos(i),
      directionY: 1,
      commandId: randomUUID(),
    };
    for (let attempt = 0; ; attempt++) {
      const urls = options.urls();
      const url = urls[(i + attempt) % Math.max(1, urls.length)];
      try {
        if (!url) throw new Error('no live instance');
        const client = new RpcClient({ url, headers: { 'X-User-Id': trainerId } });
        const answer = await client.call<MoveAnswer>(
          'trainer.move',
          params,
          AbortSignal.timeout(10_000),
        );
        load.answers.push(answer);
        return;
      } catch (error) {
        if (
          error instanceof RpcCallError &&
          error.code === -32031 &&
          options.deadLetters === 'count'
        ) {
          load.deadLettered.push(params.commandId);
          return;
        }
        if (error instanceof RpcCallError && ![-32030, -32603].includes(error.code)) throw error;
        if (error instanceof RpcCallError && error.code === -32030) load.unknownOutcomes += 1;
        if (attempt > 60)
          throw new Error(`move ${params.commandId} failed ${attempt} times: ${String(error)}`);
        load.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  };
  const worker = async () => {
    while (!stopping && sent < (options.limit ?? Number.POSITIVE_INFINITY)) await one(sent++);
  };
  load.done = Promise.all(Array.from({ length: options.inFlight }, worker)).then(() => {});
  return load;
}
