/**
 * How far V8 lets the old generation grow past what a full GC left alive before it starts the
 * next one. src/cli.ts sets it first thing, in every process (the primary, each worker, the single
 * process).
 *
 * V8 picks that factor itself after each full GC, from the GC's speed against the rate at which
 * JavaScript objects reach the old generation (MemoryController::GrowingFactor; 1.1 to 4 with the
 * default heap size on a machine with this much memory, less for a small max-old-space-size). The
 * bridge moves bytes in Buffers, and a Buffer's memory lives outside the JavaScript heap: it does
 * not count in that rate, but it counts against the limit the factor sets (the external memory
 * allocated since the last full GC). A file transfer allocated about 3 times its bytes in Buffers
 * (the socket's reads, ssh2's packets, SFTP's reassembly, the reads in flight; one copy fewer on
 * downloads since src/ssh/sftp-pipe.ts takes each answer's own bytes): some 30 MB
 * between two young-generation GCs at 200 MiB/s. Objects barely reach the old generation while it
 * runs, so V8 often chose 1.3-1.8 (a 17 MB heap: a limit 23-30 MB above it). Then the Buffers
 * reached the limit before a young GC could free them, each full GC set the next limit as low,
 * and the bridge ran a full GC every 40-50 ms: 25-40 per 64 MiB, its CPU per MiB doubled
 * (3.6-4.7 to 6.9-9.1 ms on a download) and the transfer ran at 0.5x of `sftp` instead of 0.8x.
 * Whether a run fell into it depended on the factor the last full GC before it happened to get:
 * about half the runs did (docs/performance.md#the-full-gc-storm).
 *
 * A fixed factor of 4 (`--heap-growing-percent=300`), the top of V8's own range, leaves the
 * Buffers room (a 17 MB heap: about 67 MB); 0 of 5 runs fell into it. The cost is a heap that may
 * hold more garbage before a full GC: the flag replaces every factor V8 would pick, including the
 * small ones it uses to shrink the heap (its memory reducer, which still runs GCs when the process
 * is idle, and a memory-pressure notification), so the limit stays at 4 times what is alive. 1000
 * idle sessions still cost 55 KiB each. It also replaces a `--heap-growing-percent` node was
 * started with. Set with v8.setFlagsFromString, which V8 reads each time it sets a limit (Node
 * 20's V8 11.3; the flag is not allowed in NODE_OPTIONS). test/integration/heap-growth.test.ts
 * checks that the running bridge uses it.
 */
import { setFlagsFromString } from 'node:v8';

/** The old generation's growth past the live size, in percent: a factor of 4. */
export const HEAP_GROWING_PERCENT = 300;

/** Fix V8's heap growing factor at 1 + percent/100 for the rest of the process. */
export function setHeapGrowth(percent: number = HEAP_GROWING_PERCENT): void {
  if (!Number.isInteger(percent) || percent <= 0) throw new RangeError(`heap growing percent must be a positive integer, got ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
