/**
 * Runs one projection of one partition on exactly one instance at a time (DESIGN.md G4, §8): a
 * leased follower (leased-follower.ts) that starts from the projection's checkpoint and commits
 * each batch's read-model writes with its fence and the checkpoint it started from.
 */

import type { RecordedEvent } from '../events/envelope.js';
import { projectionSpan } from '../tracing/hops.js';
import {
  type FollowStart,
  LeasedFollower,
  type LeasedFollowerOptions,
  LostLease,
} from './leased-follower.js';
import { coalesceWrites, type Projection, type ReadModelWrite } from './projection.js';
import type { Lease } from './projection-store.js';

/** How a projector runs. */
export interface ProjectorOptions extends LeasedFollowerOptions {
  readonly projection: Projection;
}

/** The writes of a batch of events, in order, for a projection. */
export function writesOf(
  projection: Projection,
  events: readonly RecordedEvent[],
): ReadModelWrite[] {
  const types = new Set(projection.eventTypes);
  return coalesceWrites(
    events.filter((e) => types.has(e.type)).flatMap((e) => projection.project(e)),
  );
}

/** One projection's leader election and fold loop on this instance. */
export class Projector extends LeasedFollower {
  private checkpoint = '0';
  private generation = 1;

  constructor(private readonly projectorOptions: ProjectorOptions) {
    super(projectorOptions);
  }

  get name(): string {
    return this.projectorOptions.projection.name;
  }

  /** `projection trainer-positions`, or `…/3` for partition 3 of several, in log lines. */
  protected get label(): string {
    const { partition } = this.options;
    return `projection ${partition === undefined ? this.name : `${this.name}/${partition}`}`;
  }

  protected get fields(): Readonly<Record<string, unknown>> {
    return { projection: this.name };
  }

  protected async begin(): Promise<FollowStart> {
    const state = await this.options.store.state(this.name);
    this.checkpoint = state.checkpoint;
    this.generation = state.generation;
    return { after: state.checkpoint, fields: { generation: state.generation } };
  }

  protected async commit(lease: Lease, batch: readonly RecordedEvent[]): Promise<void> {
    const to = batch.at(-1)!.globalPosition;
    const span = projectionSpan(this.name, batch); // a failed commit's span is dropped
    const result = await this.options.store.commit(this.name, {
      fence: lease.fence,
      from: this.checkpoint,
      to,
      generation: this.generation,
      writes: writesOf(this.projectorOptions.projection, batch),
    });
    span?.end();
    if (result !== 'ok') throw new LostLease(`commit refused (${result})`);
    this.checkpoint = to;
  }
}
