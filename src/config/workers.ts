/**
 * What `--workers auto` means on this machine. Workers add throughput only when there are cores
 * for them beside the SSH servers, shells and clients they serve: on two cores or fewer a second
 * worker measured slower at everything (keystroke echo p50 +0.08 ms and p99 +1 ms, single and
 * eight concurrent floods no faster; docs/performance.md, "The default worker count"), so `auto`
 * is one process there and one worker per core above that.
 */

/** Cores at or below which `auto` runs a single process. */
export const SINGLE_PROCESS_CORES = 2;

/** The number of processes to run: `setting` itself, or for `auto` the rule above. */
export function resolveWorkers(setting: number | 'auto', cores: number): number {
  if (setting !== 'auto') return setting;
  const n = Number.isFinite(cores) ? Math.floor(cores) : 1;
  return n <= SINGLE_PROCESS_CORES ? 1 : n;
}
