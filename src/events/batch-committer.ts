/**
 * Group commit for the Redis event store: every append and recorded answer asked for in the same
 * turn of the event loop shares one `commit-batch-n` script call (natural batching, `TickBatch`).
 * Operations are committed in the order they were asked for, so appends to one stream chain their
 * expected versions; each gets its own result.
 */

import { endWithError, settleSpan } from '../tracing/hops.js';
import { tracingOn } from '../tracing/spans.js';
import { COMMAND_GROUP, type Keys } from './keys.js';
import { LuaScript, type ReplyValue, type ScriptReply } from './lua-script.js';
import { type Answerable, OutcomeConfirmer } from './outcome-confirmer.js';
import type { PositionFormat } from './partition-positions.js';
import type { PreparedAppend, StoreSettings } from './prepare-append.js';
import type { RedisClient } from './redis-connection.js';
import { TickBatch } from './tick-batch.js';

const commitScript = LuaScript.load(new URL('./lua/commit-batch-n.lua', import.meta.url));

/** Most operations one script call commits (a bigger batch waits for the next call). */
const MAX_OPS_PER_CALL = 256;

/** One operation of a batch. */
export type CommitOp =
  | {
      readonly kind: 'append';
      readonly prepared: PreparedAppend;
      /** The command entry (`{sc}:cmd`) this append acknowledges, if any. */
      readonly acknowledge?: string;
    }
  | {
      readonly kind: 'answer';
      /** The idempotency key whose outcome is recorded (unless it has one already). */
      readonly key: string;
      /** The outcome, JSON. */
      readonly outcome: string;
      readonly replyChannel: string;
      readonly acknowledge?: string;
    };

/** Collects operations and commits them together (see the module comment). */
export class BatchCommitter {
  private readonly batch = new TickBatch(
    (ops: readonly CommitOp[]) => this.run(ops),
    MAX_OPS_PER_CALL,
  );

  /** Under REDIS_WAIT_REPLICAS > 0: confirms outcomes after the commit's WAIT. */
  private readonly confirmer: OutcomeConfirmer | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly settings: StoreSettings,
    /** Writes the positions recorded in outcomes as clients see them (`<p>:<id>` with partitions). */
    private readonly positions: PositionFormat,
  ) {
    const wait = settings.replicaWait;
    this.confirmer = wait && new OutcomeConfirmer(redis, keys, wait);
  }

  /** Commits `op` with whatever else is asked for in this turn; resolves with its own result. */
  commit(op: CommitOp): Promise<readonly ReplyValue[]> {
    return this.batch.add(op);
  }

  private async run(ops: readonly CommitOp[]): Promise<readonly (readonly ReplyValue[])[]> {
    const keys = [this.keys.all, this.keys.notify, this.keys.commands, this.keys.commandBacklog];
    const args: (string | number)[] = [
      this.settings.dedupTtlS,
      this.settings.notifyRetention,
      this.settings.serverId,
      this.settings.unsafeSkipDedupCheck ? '0' : '1',
      COMMAND_GROUP,
      ops.length,
      this.positions.out(''),
      this.confirmer ? '1' : '0',
    ];
    for (const op of ops) this.encode(op, keys, args);
    const span = tracingOn() ? traceSettle(ops) : undefined;
    const reply = await this.commitAndWait(ops, keys, args).catch((error: unknown) => {
      endWithError(span, error);
      throw error;
    });
    span?.end();
    return ops.map((_, i) => {
      const result = reply.values[i];
      if (!Array.isArray(result))
        throw new Error(`commit-batch gave no result for operation ${i + 1}`);
      return result;
    });
  }

  /**
   * The commit; under REDIS_WAIT_REPLICAS, pipelined with WAIT on its node, and its outcomes then
   * confirmed and replied (or their shortfall replied) before any operation resolves.
   */
  private async commitAndWait(
    ops: readonly CommitOp[],
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<ScriptReply> {
    if (!this.confirmer) return commitScript.run(this.redis, keys, args);
    const { reply, acked } = await commitScript.runAndWait(
      this.redis,
      keys,
      args,
      this.confirmer.wait,
    );
    await this.confirmer.settle(answerables(ops, reply), acked);
    return reply;
  }

  /** Adds an operation's 3 keys and its arguments (the script's header has the layout). */
  private encode(op: CommitOp, keys: string[], args: (string | number)[]): void {
    if (op.kind === 'answer') {
      keys.push(this.keys.all, this.keys.done(op.key), this.keys.all);
      args.push('R', op.key, op.replyChannel, op.acknowledge ?? '', op.outcome);
      return;
    }
    const p = op.prepared;
    const { job } = p;
    keys.push(
      this.keys.stream(p.streamId),
      this.keys.done(p.idempotencyKey),
      job ? this.keys.jobs(job.queue) : this.keys.all,
    );
    args.push('A', p.idempotencyKey, p.replyChannel, op.acknowledge ?? '');
    const result = p.resultDerived && p.resultJson !== '' ? `=${p.resultJson}` : p.resultJson;
    args.push(p.streamId, p.expected.kind, p.expected.version, result, p.events.length);
    for (const e of p.events) args.push(e.id, e.type, e.schemaVersion, e.data, e.meta);
    args.push(p.notifications.length);
    for (const n of p.notifications) {
      args.push(n.method, n.params, n.target, n.targetIds, n.topic, n.trace);
    }
    if (job) args.push('1', job.group, job.maxWaiting, job.id, job.type, job.data, job.meta);
    else args.push('0');
  }
}

/** The span of a batch's commit, linked to the trace of each append that carries one. */
function traceSettle(ops: readonly CommitOp[]) {
  const appends = ops.flatMap((op) => (op.kind === 'append' ? [op.prepared] : []));
  return settleSpan(
    ops.map((op) =>
      op.kind === 'append' ? op.prepared.events[0]?.metadata.traceparent : undefined,
    ),
    appends.map((p) => p.streamId),
  );
}

/** The operations of a batch that have an outcome now (written or used before), with their channel. */
function answerables(ops: readonly CommitOp[], reply: ScriptReply): Answerable[] {
  return ops.flatMap((op, i) => {
    const result = reply.values[i];
    const code = Array.isArray(result) ? result[0] : undefined;
    if (code !== 1 && code !== 0) return []; // a conflict or a refusal wrote nothing
    const [key, channel] =
      op.kind === 'answer'
        ? [op.key, op.replyChannel]
        : [op.prepared.idempotencyKey, op.prepared.replyChannel];
    return key === '' ? [] : [{ key, channel }];
  });
}
