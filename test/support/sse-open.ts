/** An event stream opened to see whether it was admitted; it stays open until `close`. */
export interface OpenedStream {
  readonly status: number;
  /** What was read: the error body, a bare `retry:` (refused), or the first frames. */
  readonly text: string;
  /** True when the stream sent a frame (`event:`); false when it ended or was refused. */
  readonly admitted: boolean;
  close(): void;
}

/**
 * Opens `url` (an SSE route) and reads until the first `event:` frame (admitted) or the end of the
 * answer (refused with a retry, or an error status); rejects after `timeoutMs`.
 */
export async function openStream(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<OpenedStream> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`no frame nor end from ${url}`)), timeoutMs);
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    const close = () => abort.abort();
    if (res.status !== 200 || !res.body) {
      return { status: res.status, text: await res.text(), admitted: false, close };
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { status: res.status, text, admitted: false, close };
      text += value;
      if (/^event: /m.test(text)) return { status: res.status, text, admitted: true, close };
    }
  } finally {
    clearTimeout(timer);
  }
}
