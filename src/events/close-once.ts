/**
 * One close promise per component: the first `close()` starts closing, every later one waits for
 * the same promise (so a shutdown step and a test's cleanup never race two closings).
 */
export function closeOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= close();
    return closing;
  };
}
