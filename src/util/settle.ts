/** Waiting for a group of closings with a deadline: the shutdown paths share this. */

/**
 * Wait until every promise has settled or `timeoutMs` has passed, whichever is first. Resolves to
 * true when the deadline came first (some are still pending). The timer is always cleared.
 */
export async function settledWithin(promises: ReadonlyArray<Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.allSettled(promises).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
