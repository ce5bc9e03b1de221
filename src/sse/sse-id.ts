/**
 * SSE ids of `GET /events` (SPEC.md §5, DESIGN.md §8): the delivered vector — every partition's
 * position in its notifications stream — with a tag of the partitions' epochs. No Node imports:
 * the typed client parses ids with it too.
 *
 * One partition: `<epoch>:<ms>-<seq>`, exactly the id of a single notifications stream.
 * Several: `<tag>:<base>:<slot>.<slot>…`, one slot per partition, in partition order, where
 * `<tag>` stands for every partition's epoch, `<base>` (base 36) is a millisecond past every
 * position's, and a slot is `''` for a stream never written (`0-0`), else `<base - ms>` in base 36,
 * then `-<seq>` in base 36 when the sequence is not 0. The base moves in steps of 2^20 ms (17 min)
 * so a frame rebuilds one slot, and 64 partitions take at most about 850 bytes (slots at most 8 + 1
 * + 3 characters while positions are younger than 89 years and fewer than 46 656 entries share a
 * millisecond).
 */

/** What an SSE id stands for: the epochs' tag and each partition's position. */
export interface SseIdParts {
  readonly tag: string;
  readonly positions: readonly string[];
}

/** An id whose epoch or tag is longer than this is not one of ours. */
const TAG = /^[A-Za-z0-9]{1,32}$/;
const SINGLE = /^([A-Za-z0-9]{1,32}):(\d{1,20}-\d{1,20})$/;
const SLOT = /^(?:([0-9a-z]{1,11})(?:-([0-9a-z]{1,11}))?)?$/;
/** Longest id parsed: 256 partitions of the longest slots. */
const MAX_ID_LENGTH = 64 + 256 * 24;
/** The base moves in steps of this many ms. */
const BASE_STEP = 2 ** 20;
/** Slots joined together and kept, so a frame joins a few groups instead of every slot. */
const GROUP = 8;

/** `<ms>-<seq>` as numbers (Redis ids of `*` entries are milliseconds: safe integers). */
function split(position: string): [number, number] {
  const dash = position.indexOf('-');
  return [Number(position.slice(0, dash)), Number(position.slice(dash + 1))];
}

function slotOf(position: string, base: number): string {
  if (position === '0-0') return '';
  const [ms, seq] = split(position);
  const delta = (base - ms).toString(36);
  return seq === 0 ? delta : `${delta}-${seq.toString(36)}`;
}

/** The base for the newest millisecond `ms`: the next step past it. */
function baseFor(ms: number): number {
  return (Math.floor(ms / BASE_STEP) + 1) * BASE_STEP;
}

/** Formats an id (the same as `PositionVector.id`; for ids built once, such as a reset's). */
export function formatSseId(tag: string, positions: readonly string[]): string {
  return new PositionVector(tag, positions).id;
}

/**
 * A delivered vector and its id, rebuilt only where it changed: `advance` re-encodes one slot
 * (all of them when the base moves) and forgets its group's text, `id` joins the groups once and
 * keeps the text until the next change.
 */
export class PositionVector {
  private readonly current: string[];
  private readonly slots: string[];
  private readonly groups: (string | undefined)[];
  private base = 0;
  private text?: string;

  constructor(
    private tagText: string,
    positions: readonly string[],
  ) {
    this.current = [...positions];
    this.slots = positions.map(() => '');
    this.groups = Array.from({ length: Math.ceil(positions.length / GROUP) }, () => undefined);
    this.rebase();
  }

  /** Each partition's position. */
  get positions(): readonly string[] {
    return this.current;
  }

  get tag(): string {
    return this.tagText;
  }

  set tag(tag: string) {
    this.tagText = tag;
    this.text = undefined;
  }

  /** Moves partition `p` to `position`. */
  advance(p: number, position: string): void {
    this.current[p] = position;
    this.text = undefined;
    if (this.current.length === 1) return;
    if (split(position)[0] >= this.base) {
      this.rebase();
      return;
    }
    this.slots[p] = slotOf(position, this.base);
    this.groups[Math.floor(p / GROUP)] = undefined;
  }

  /** The SSE id. */
  get id(): string {
    this.text ??=
      this.current.length === 1
        ? `${this.tagText}:${this.current[0]}`
        : `${this.tagText}:${this.base.toString(36)}:${this.joined()}`;
    return this.text;
  }

  private joined(): string {
    for (let g = 0; g < this.groups.length; g++)
      this.groups[g] ??= this.slots.slice(g * GROUP, (g + 1) * GROUP).join('.');
    return this.groups.join('.');
  }

  private rebase(): void {
    if (this.current.length === 1) return;
    this.base = baseFor(Math.max(...this.current.map((position) => split(position)[0])));
    for (let p = 0; p < this.current.length; p++)
      this.slots[p] = slotOf(this.current[p]!, this.base);
    this.groups.fill(undefined);
  }
}

/** A base-36 number that is a safe integer, or undefined. */
function base36(text: string | undefined): number | undefined {
  if (text === undefined) return 0;
  const n = Number.parseInt(text, 36);
  return Number.isSafeInteger(n) ? n : undefined;
}

function positionOf(slot: string, base: number): string | undefined {
  const match = SLOT.exec(slot);
  if (!match) return undefined;
  if (match[1] === undefined) return '0-0';
  const delta = base36(match[1]);
  const seq = base36(match[2]);
  if (delta === undefined || seq === undefined || delta > base) return undefined;
  return `${base - delta}-${seq}`;
}

/**
 * Reads an SSE id of either form; undefined when it is not one. The number of partitions is the
 * number of positions (the server checks it is its own).
 */
export function parseSseIdParts(text: string | undefined): SseIdParts | undefined {
  const trimmed = text?.trim();
  if (!trimmed || trimmed.length > MAX_ID_LENGTH) return undefined;
  const single = SINGLE.exec(trimmed);
  if (single) return { tag: single[1]!, positions: [single[2]!] };
  const [tag = '', baseText = '', slotsText, ...rest] = trimmed.split(':');
  if (slotsText === undefined || rest.length > 0 || !TAG.test(tag)) return undefined;
  const base = /^[0-9a-z]{1,11}$/.test(baseText) ? base36(baseText) : undefined;
  if (base === undefined) return undefined;
  const slots = slotsText.split('.');
  if (slots.length < 2) return undefined;
  const positions: string[] = [];
  for (const slot of slots) {
    const position = positionOf(slot, base);
    if (position === undefined) return undefined;
    positions.push(position);
  }
  return { tag, positions };
}

/** `<ms>-<seq>` as a pair of integers, for the client (which may see ids past 2^53). */
function pair(position: string): [bigint, bigint] {
  const [ms = '0', seq = '0'] = position.split('-');
  return [BigInt(ms), BigInt(seq)];
}

/**
 * True when id `a` is covered by `b`: the same epochs, and every partition's position in `a` at
 * or before its position in `b`. A frame whose id is covered by the last id seen carries nothing
 * new: the client drops it as a duplicate.
 */
export function sseIdCovered(a: string, b: string | undefined): boolean {
  const x = parseSseIdParts(a);
  const y = parseSseIdParts(b);
  if (!x || !y || x.tag !== y.tag || x.positions.length !== y.positions.length) return false;
  return x.positions.every((position, i) => {
    const [am, as] = pair(position);
    const [bm, bs] = pair(y.positions[i]!);
    return am < bm || (am === bm && as <= bs);
  });
}
