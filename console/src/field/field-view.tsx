/**
 * The field: the canvas, your move controls (arrow keys on the focused field, or the buttons),
 * and the list of every trainer (a button each, so each id is text reachable by keyboard).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { RpcCallError } from '../../../src/client/index.js';
import { command } from '../failover-rpc.js';
import type { Live } from '../live.js';
import { FrameLoop } from './frame-loop.js';

type Direction = readonly [number, number];

/** Screen directions: y grows downwards, as on the canvas. */
const KEYS: Readonly<Record<string, Direction>> = {
  ArrowUp: [0, -1],
  ArrowDown: [0, 1],
  ArrowLeft: [-1, 0],
  ArrowRight: [1, 0],
};

const BUTTONS: readonly { testid: string; label: string; dir: Direction }[] = [
  { testid: 'move-up', label: '↑ Up', dir: [0, -1] },
  { testid: 'move-left', label: '← Left', dir: [-1, 0] },
  { testid: 'move-right', label: '→ Right', dir: [1, 0] },
  { testid: 'move-down', label: '↓ Down', dir: [0, 1] },
];

export function FieldView({ live }: { live: Live }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const own = useRef<HTMLSpanElement>(null);
  const loop = useRef<FrameLoop>(undefined);
  const heading = useRef<Direction | undefined>(undefined);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState<string>();
  const me = live.identity.userId;

  useEffect(() => {
    const frames = new FrameLoop(live.field, live.clock, me, {
      canvas: canvas.current!,
      list: list.current!,
      ownPosition: own.current!,
      onSelect: (id) => {
        frames.selectedId = id;
        frames.invalidate();
        setSelected(id);
      },
    });
    loop.current = frames;
    frames.start();
    return () => frames.stop();
  }, [live, me]);

  const move = async (dir: Direction | undefined) => {
    heading.current = dir;
    try {
      const params = dir
        ? { action: 'start', directionX: dir[0], directionY: dir[1] }
        : { action: 'stop' };
      const result = await live.rpc.call<{ movement: { speed: number } }>(
        'trainer.move',
        command(params),
      );
      if (result.movement.speed > 0) live.field.speed = result.movement.speed;
      setError('');
    } catch (e) {
      heading.current = undefined; // the next key press tries again
      setError(e instanceof RpcCallError ? `${e.message} (${e.code})` : String(e));
    }
  };

  const onKey = (e: KeyboardEvent) => {
    const dir = KEYS[e.key];
    if (dir) {
      e.preventDefault();
      const h = heading.current;
      if (!e.repeat && !(h && h[0] === dir[0] && h[1] === dir[1])) void move(dir);
    } else if (e.key === ' ' || e.key === 'Escape') {
      e.preventDefault();
      if (!e.repeat) void move(undefined);
    }
  };

  return (
    <div class="field-layout">
      <div class="field-main">
        <div
          class="field"
          data-testid="field"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: an application role takes keys (arrows move)
          tabIndex={0}
          role="application"
          aria-label="Field: arrow keys move your trainer, Space or Escape stops it"
          onKeyDown={onKey}
        >
          <canvas
            ref={canvas}
            data-testid="field-canvas"
            role="img"
            aria-label="Every trainer's position; yours is orange"
          />
        </div>
        <fieldset class="controls">
          <legend>Move your trainer</legend>
          {BUTTONS.map((b) => (
            <button
              type="button"
              key={b.testid}
              data-testid={b.testid}
              onClick={() => void move(b.dir)}
            >
              {b.label}
            </button>
          ))}
          <button type="button" data-testid="move-stop" onClick={() => void move(undefined)}>
            ■ Stop
          </button>
        </fieldset>
        <p>
          You ({me}):{' '}
          <span data-testid="own-position" ref={own}>
            not moved yet
          </span>
          {selected ? ` · selected: ${selected}` : ''}
        </p>
        {error && (
          <p class="error" role="alert" data-testid="move-error">
            {error}
          </p>
        )}
      </div>
      <section class="trainer-list" aria-labelledby="trainers-heading">
        <h2 id="trainers-heading">Trainers</h2>
        <ul ref={list} data-testid="trainer-list" />
      </section>
    </div>
  );
}
