/**
 * Polls `GET /readyz` until it answers 200 or `timeoutMs` passes; resolves with the last status
 * (0: nothing listened). An instance turns ready a moment after its start-up checks pass, once its
 * workers run, so tests wait for readiness rather than for a log line.
 */
export async function readyStatus(url: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      status = res.status;
      await res.body?.cancel();
      if (status === 200) return status;
    } catch {
      status = 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return status;
}

/** One `/readyz` answer seen by `watchReadiness`. */
export interface ReadinessAnswer {
  readonly status: number;
  /** Epoch ms it arrived. */
  readonly at: number;
}

/** Polls `/readyz` every `everyMs` until the instance stops answering; every answer seen. */
export async function watchReadiness(url: string, everyMs = 25): Promise<ReadinessAnswer[]> {
  const seen: ReadinessAnswer[] = [];
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      seen.push({ status: res.status, at: Date.now() });
      await res.body?.cancel();
    } catch {
      return seen;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
