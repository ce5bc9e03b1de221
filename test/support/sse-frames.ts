/** Reads SSE frames from a fetch response: `next(event)` resolves with the next frame of that event. */
export function frameReader(res: Response, timeoutMs = 15_000) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  return {
    async next(event: string): Promise<string> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const frame = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (frame.split('\n').includes(`event: ${event}`)) return frame;
          continue;
        }
        let timer: NodeJS.Timeout | undefined;
        const { value, done } = await Promise.race([
          reader.read(),
          new Promise<{ value: undefined; done: true }>((resolve) => {
            timer = setTimeout(() => resolve({ value: undefined, done: true }), timeoutMs);
          }),
        ]);
        clearTimeout(timer);
        if (done) throw new Error(`no ${event} frame on the stream`);
        buffered += value;
      }
    },
  };
}
