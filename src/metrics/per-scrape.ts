/**
 * One read per scrape for the metrics that share it. prom-client starts every metric's `collect`
 * in one synchronous pass (Registry.metrics() and getMetricsAsJSON() call each metric's get(),
 * which calls collect() before its first await), so a value kept until the microtasks run is
 * shared by all of them, and the next scrape reads afresh. No timer: nothing to clear.
 */
export function perScrape<T>(read: () => T): () => T {
  let held: { readonly value: T } | undefined;
  return () => {
    if (held === undefined) {
      held = { value: read() };
      queueMicrotask(() => {
        held = undefined;
      });
    }
    return held.value;
  };
}
