import { EventSource } from 'eventsource';

/** One frame an SSE client received. */
export interface Frame {
  readonly event: string;
  readonly id: string;
  readonly params: Record<string, unknown>;
}

const NAMES = [
  'session.opened',
  'stream.reset',
  'ping',
  'position.update',
  'message.chat',
  'message.big',
  'deployment.stage',
  'deployment.done',
  'deployment.failed',
];

/**
 * A real EventSource client (the `eventsource` package) on `/events` that records every frame;
 * it does not reconnect by itself (the tests reconnect explicitly, with the id they choose).
 */
export class SseClient {
  readonly frames: Frame[] = [];
  private readonly source: EventSource;
  private waiters = new Set<() => void>();
  errors = 0;

  constructor(base: string, query: Record<string, string>, headers: Record<string, string> = {}) {
    const url = new URL('/events', base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    this.source = new EventSource(url.toString(), {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...(init?.headers as Record<string, string>), ...headers },
        }),
    });
    for (const name of NAMES) {
      this.source.addEventListener(name, (e) => {
        const { params } = JSON.parse(e.data) as { params: Record<string, unknown> };
        this.frames.push({ event: name, id: e.lastEventId, params });
        for (const wake of this.waiters) wake();
      });
    }
    this.source.onerror = () => {
      this.errors += 1;
      this.source.close(); // tests decide when and where to reconnect
      for (const wake of this.waiters) wake();
    };
  }

  /** Frames of one event type. */
  of(event: string): Frame[] {
    return this.frames.filter((f) => f.event === event);
  }

  /** The id of the last frame that had one. */
  lastId(): string | undefined {
    return this.frames.filter((f) => f.id).at(-1)?.id;
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs`. */
  until(
    predicate: (c: SseClient) => boolean,
    timeoutMs = 15_000,
    what = 'condition',
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!predicate(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `SSE client: ${what} not met within ${timeoutMs} ms (${this.frames.length} frames, ${this.errors} errors)`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  get closed(): boolean {
    return this.source.readyState === EventSource.CLOSED;
  }

  close(): void {
    this.source.close();
  }
}

/** The entry part of an SSE id (`<epoch>:<entry>`). */
export function entryOf(id: string): string {
  return id.slice(id.indexOf(':') + 1);
}
